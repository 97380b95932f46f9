use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::idempotency::{IdempotencyScope, IdempotencyStart, StoredResponse};
use crate::DomainError;

/// Idempotency keys and the responses they answered, shared by every instance.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for this request, or says what to answer instead:
    /// [`DomainError::IdempotencyKeyReused`] for a different request hash,
    /// [`DomainError::IdempotencyKeyInFlight`] while the first is running.
    async fn start(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, DomainError>;
    /// Keeps the response that answers repeats of the key.
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        response: &StoredResponse,
    ) -> Result<(), DomainError>;
    /// Gives the key up so that a retry runs again (the first attempt failed without effect).
    async fn release(&self, scope: &IdempotencyScope) -> Result<(), DomainError>;
}
