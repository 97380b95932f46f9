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
        let fresh = entry
            .seats
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, seats)| seats.clone());
        (fresh, entry.generation)
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

    #[test]
    fn zero_ttl_is_off() {
        let cache = SeatMapCache::new(Duration::ZERO);
        let (_, generation) = cache.get(1);
        cache.put(1, generation, rows());
        assert!(cache.get(1).0.is_none());
    }
}
