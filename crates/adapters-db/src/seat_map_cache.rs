//! A short-lived, per-instance cache of each schedule's seat rows: the seat
//! map is the hottest read of a sale after queue polling, and a schedule's
//! map is the same for everyone who reads it.
//!
//! It is a read cache only: no decision is made from it (a hold reads its
//! seat row fresh and is checked by version). Seat status is still derived
//! at read time, so a lapsed hold shows AVAILABLE at once even from a cached
//! row. This instance's own writes invalidate the schedule's entry, so a user
//! sees their own hold immediately; another instance's writes show within
//! the TTL. A TTL of zero turns the cache off.
//!
//! A miss is refilled once: the first reader takes the schedule's refill
//! lock and reads the rows; readers that missed meanwhile wait for it and
//! take what it stored. Without that, every reader that arrived in the
//! moment the entry expired read the same rows again, and on SQLite (one
//! connection) they queued behind each other: p99 of about 420 ms at 64
//! readers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::seat::Seat;

#[derive(Default)]
struct Entry {
    /// Bumped by every invalidation: a read that started before one must not
    /// store what it read.
    generation: u64,
    seats: Option<(Instant, Arc<[Seat]>)>,
    /// Held by the one reader refilling the entry.
    refill: Arc<tokio::sync::Mutex<()>>,
}

/// What a reader finds: the rows, or the right to read them.
pub(crate) enum Lookup {
    Fresh(Arc<[Seat]>),
    /// Read the rows and `put` them at `generation`; others wait meanwhile
    /// (until `_refilling` is dropped).
    Refill {
        generation: u64,
        _refilling: tokio::sync::OwnedMutexGuard<()>,
    },
}

/// Seat rows per schedule, for at most `ttl`.
pub struct SeatMapCache {
    ttl: Duration,
    entries: Mutex<HashMap<i64, Entry>>,
}

impl SeatMapCache {
    pub fn new(ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// The cached rows if fresh, and the generation to hand back to `put`.
    pub(crate) fn get(&self, schedule_id: i64) -> (Option<Arc<[Seat]>>, u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(schedule_id).or_default();
        (self.fresh(entry), entry.generation)
    }

    /// The cached rows if fresh; else the right to refill them, once a
    /// refill that was under way has ended (its rows are then served).
    pub(crate) async fn lookup(&self, schedule_id: i64) -> Lookup {
        let refill = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let entry = entries.entry(schedule_id).or_default();
            if let Some(seats) = self.fresh(entry) {
                return Lookup::Fresh(seats);
            }
            entry.refill.clone()
        };
        let refilling = refill.lock_owned().await;
        let (fresh, generation) = self.get(schedule_id);
        match fresh {
            Some(seats) => Lookup::Fresh(seats),
            None => Lookup::Refill {
                generation,
                _refilling: refilling,
            },
        }
    }

    fn fresh(&self, entry: &Entry) -> Option<Arc<[Seat]>> {
        entry
            .seats
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, seats)| seats.clone())
    }

    /// Stores rows read at `generation`, unless an invalidation came since.
    pub(crate) fn put(&self, schedule_id: i64, generation: u64, seats: Arc<[Seat]>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(schedule_id).or_default();
        if entry.generation == generation {
            entry.seats = Some((Instant::now(), seats));
        }
    }

    /// Forgets a schedule after this instance changed one of its seats.
    pub(crate) fn invalidate(&self, schedule_id: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(schedule_id).or_default();
        entry.generation += 1;
        entry.seats = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::seat::SeatStatus;
    use domain::{ScheduleId, SeatId, Won};

    fn rows() -> Arc<[Seat]> {
        Arc::from(vec![Seat {
            id: SeatId(1),
            schedule_id: ScheduleId(1),
            seat_number: 1,
            price: Won::new(1).unwrap(),
            status: SeatStatus::Available,
            hold_expires_at: None,
            version: 0,
        }])
    }

    #[test]
    fn serves_until_invalidated() {
        let cache = SeatMapCache::new(Duration::from_secs(60));
        let (miss, generation) = cache.get(1);
        assert!(miss.is_none());
        cache.put(1, generation, rows());
        assert!(cache.get(1).0.is_some());
        cache.invalidate(1);
        assert!(cache.get(1).0.is_none());
    }

    #[test]
    fn a_read_older_than_an_invalidation_is_not_stored() {
        let cache = SeatMapCache::new(Duration::from_secs(60));
        let (_, generation) = cache.get(1);
        cache.invalidate(1);
        cache.put(1, generation, rows());
        assert!(cache.get(1).0.is_none());
    }

    #[tokio::test]
    async fn readers_that_miss_together_wait_for_one_refill() {
        let cache = SeatMapCache::new(Duration::from_secs(60));
        let Lookup::Refill {
            generation,
            _refilling,
        } = cache.lookup(1).await
        else {
            panic!("an empty cache is refilled");
        };
        // A second reader waits while the first one reads...
        let waiting = tokio::spawn({
            let cache = cache.clone();
            async move { matches!(cache.lookup(1).await, Lookup::Fresh(_)) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        // ...and is served what the first one stored.
        cache.put(1, generation, rows());
        drop(_refilling);
        assert!(waiting.await.unwrap());
    }

    #[tokio::test]
    async fn a_refill_whose_rows_were_invalidated_hands_the_refill_on() {
        let cache = SeatMapCache::new(Duration::from_secs(60));
        let Lookup::Refill { _refilling, .. } = cache.lookup(1).await else {
            panic!("an empty cache is refilled");
        };
        cache.invalidate(1);
        drop(_refilling);
        assert!(matches!(cache.lookup(1).await, Lookup::Refill { .. }));
    }

    #[test]
    fn zero_ttl_is_off() {
        let cache = SeatMapCache::new(Duration::ZERO);
        let (_, generation) = cache.get(1);
        cache.put(1, generation, rows());
        assert!(cache.get(1).0.is_none());
    }
}
