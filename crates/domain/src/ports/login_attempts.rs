use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::DomainError;

/// Failed logins per login id, shared by every instance.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Failures since `since`, oldest first.
    async fn failures_since(
        &self,
        login_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, DomainError>;
    /// Records a failed login at `at`.
    async fn record_failure(&self, login_id: &str, at: DateTime<Utc>) -> Result<(), DomainError>;
    /// Forgets the failures after a successful login.
    async fn clear(&self, login_id: &str) -> Result<(), DomainError>;
}
