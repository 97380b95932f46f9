//! The statuses a schedule's seat rows show, derived once and reused while
//! they cannot change: a seat-map read that finds the same rows (the seat
//! cache's `Arc`, compared by pointer) before the earliest live hold lapses
//! touches none of the seats.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use domain::seat::{Seat, SeatStatus};
use domain::ScheduleId;

/// Schedules kept at once; past this the memory is emptied and refills on demand.
const SCHEDULES_MAX: usize = 256;

/// Per schedule, the statuses last derived and how long they hold.
#[derive(Default)]
pub struct ShownStatuses {
    schedules: Mutex<HashMap<ScheduleId, Shown>>,
}

struct Shown {
    /// The rows they were derived from. Holding the `Arc` keeps its address
    /// from being reused, so pointer equality means these very rows.
    rows: Arc<[Seat]>,
    statuses: Arc<[SeatStatus]>,
    /// The earliest expiry of a live hold among the rows: from then on that
    /// seat shows AVAILABLE. `None`: no hold will lapse, the rows are final.
    until: Option<DateTime<Utc>>,
}

impl ShownStatuses {
    /// The statuses derived from exactly `rows`, if they still hold at `now`.
    pub(crate) fn get(
        &self,
        schedule_id: ScheduleId,
        rows: &Arc<[Seat]>,
        now: DateTime<Utc>,
    ) -> Option<Arc<[SeatStatus]>> {
        let schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
        schedules
            .get(&schedule_id)
            .filter(|shown| Arc::ptr_eq(&shown.rows, rows))
            .filter(|shown| shown.until.is_none_or(|until| now < until))
            .map(|shown| shown.statuses.clone())
    }

    /// Keeps `statuses`, derived from `rows` at `now` with no hold lapsed
    /// among them (a lapsed hold's status also depends on the waiting list,
    /// which these rows do not tell: such maps are derived on every read).
    pub(crate) fn keep(
        &self,
        schedule_id: ScheduleId,
        rows: Arc<[Seat]>,
        statuses: Arc<[SeatStatus]>,
        now: DateTime<Utc>,
    ) {
        let until = next_lapse(&rows, now);
        let mut schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
        if schedules.len() >= SCHEDULES_MAX && !schedules.contains_key(&schedule_id) {
            schedules.clear();
        }
        schedules.insert(
            schedule_id,
            Shown {
                rows,
                statuses,
                until,
            },
        );
    }
}

/// When the first hold still live at `now` lapses, if any does.
fn next_lapse(rows: &[Seat], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rows.iter()
        .filter(|seat| seat.status == SeatStatus::Held)
        .filter_map(|seat| seat.hold_expires_at)
        .filter(|until| *until > now)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn rows(now: DateTime<Utc>) -> Arc<[Seat]> {
        let seat = |n, status, until| Seat::stub(n, ScheduleId(1), status, until);
        vec![
            seat(1, SeatStatus::Sold, None),
            seat(2, SeatStatus::Held, Some(now + Duration::seconds(30))),
            seat(3, SeatStatus::Held, Some(now + Duration::seconds(10))),
            seat(4, SeatStatus::Available, None),
        ]
        .into()
    }

    fn statuses() -> Arc<[SeatStatus]> {
        vec![
            SeatStatus::Sold,
            SeatStatus::Held,
            SeatStatus::Held,
            SeatStatus::Available,
        ]
        .into()
    }

    #[test]
    fn reused_for_the_same_rows_until_the_first_hold_lapses() {
        let now = Utc::now();
        let shown = ShownStatuses::default();
        let rows = rows(now);
        assert!(shown.get(ScheduleId(1), &rows, now).is_none());
        let kept = statuses();
        shown.keep(ScheduleId(1), rows.clone(), kept.clone(), now);
        let again = shown
            .get(ScheduleId(1), &rows, now + Duration::seconds(9))
            .expect("still valid");
        assert!(Arc::ptr_eq(&again, &kept));
        // Seat 3's hold lapses at +10 s: the stored statuses no longer hold.
        assert!(shown
            .get(ScheduleId(1), &rows, now + Duration::seconds(10))
            .is_none());
    }

    #[test]
    fn equal_rows_read_afresh_or_another_schedule_are_not_reused() {
        let now = Utc::now();
        let shown = ShownStatuses::default();
        let first = rows(now);
        shown.keep(ScheduleId(1), first.clone(), statuses(), now);
        let reread = rows(now);
        assert!(shown.get(ScheduleId(1), &reread, now).is_none());
        assert!(shown.get(ScheduleId(2), &first, now).is_none());
    }

    #[test]
    fn rows_without_live_holds_hold_forever() {
        let now = Utc::now();
        let final_rows: Arc<[Seat]> = rows(now)
            .iter()
            .filter(|seat| seat.status != SeatStatus::Held)
            .cloned()
            .collect();
        assert_eq!(next_lapse(&final_rows, now), None);
        assert_eq!(
            next_lapse(&rows(now), now),
            Some(now + Duration::seconds(10))
        );
        let shown = ShownStatuses::default();
        shown.keep(
            ScheduleId(1),
            final_rows.clone(),
            vec![SeatStatus::Sold, SeatStatus::Available].into(),
            now,
        );
        assert!(shown
            .get(ScheduleId(1), &final_rows, now + Duration::days(365))
            .is_some());
    }
}
