use chrono::{DateTime, Utc};

/// The time source; passed in so that expiry logic is tested without sleeping.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}
