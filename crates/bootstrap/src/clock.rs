use chrono::{DateTime, Utc};
use domain::ports::Clock;

/// Wall-clock time, truncated to the milliseconds the database keeps, so a
/// value read back equals the value written.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}
