use chrono::{DateTime, Utc};

use crate::{ScheduleId, SeatId, Won};

/// What a client sees of a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatStatus {
    /// Free to hold.
    Available,
    /// Under a hold (possibly lapsed).
    Held,
    /// Paid for.
    Sold,
}

impl SeatStatus {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Held => "HELD",
            Self::Sold => "SOLD",
        }
    }
}

crate::error::parse_by_name!(SeatStatus, "seat status", [Available, Held, Sold]);

/// A seat as stored. `status` is the stored state; [`Seat::status_at`] is
/// the truth at a moment, because a hold past its expiry frees the seat at once
/// even before the sweeper has written that down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Its id.
    pub id: SeatId,
    /// Its schedule.
    pub schedule_id: ScheduleId,
    /// Its number, 1..=seat count.
    pub seat_number: u32,
    /// Its price.
    pub price: Won,
    /// The stored status; see `status_at` for the effective one.
    pub status: SeatStatus,
    /// When the current hold lapses, if held.
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version: every change bumps it.
    pub version: i64,
}

/// Seats as a seat repository answers them, for the use cases' tests.
#[cfg(any(test, feature = "mocks"))]
impl Seat {
    /// Seat `number` (also its id) of `schedule_id` at 10 won, version 1.
    pub fn stub(
        number: i64,
        schedule_id: ScheduleId,
        status: SeatStatus,
        hold_expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Seat {
            id: SeatId(number),
            schedule_id,
            seat_number: number as u32,
            price: Won::new(10).expect("a positive price"),
            status,
            hold_expires_at,
            version: 1,
        }
    }
}

impl Seat {
    /// The status at `now`: a lapsed hold reads AVAILABLE.
    pub fn status_at(&self, now: DateTime<Utc>) -> SeatStatus {
        match (self.status, self.hold_expires_at) {
            (SeatStatus::Held, Some(until)) if until <= now => SeatStatus::Available,
            (status, _) => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn expired_hold_reads_available() {
        let now = Utc::now();
        let mut seat = Seat {
            id: SeatId(1),
            schedule_id: ScheduleId(1),
            seat_number: 1,
            price: Won::new(10).unwrap(),
            status: SeatStatus::Held,
            hold_expires_at: Some(now + Duration::seconds(1)),
            version: 1,
        };
        assert_eq!(seat.status_at(now), SeatStatus::Held);
        seat.hold_expires_at = Some(now);
        assert_eq!(seat.status_at(now), SeatStatus::Available);
        seat.status = SeatStatus::Sold;
        assert_eq!(seat.status_at(now), SeatStatus::Sold);
    }
}
