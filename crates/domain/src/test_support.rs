//! Fixtures the domain's unit tests share: a fixed instant and a schedule
//! relative to it, so that expiry rules are tested without a clock.

use chrono::{DateTime, Duration, Utc};

use crate::concert::Schedule;
use crate::{ConcertId, ScheduleId, Won};

/// The instant every domain test calls "now".
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Schedule 3 of concert 2 (10 seats at 50,000 won), starting `starts_in` seconds after [`now`].
pub(crate) fn schedule(starts_in: i64) -> Schedule {
    Schedule {
        id: ScheduleId(3),
        concert_id: ConcertId(2),
        starts_at: now() + Duration::seconds(starts_in),
        price: Won::new(50_000).unwrap(),
        seat_count: 10,
    }
}
