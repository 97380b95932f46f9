use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::idempotency::{IdempotencyClaim, IdempotencyScope, IdempotencyStart, StoredAnswer};
use crate::DomainError;

/// Idempotency keys and the responses they answered, shared by every instance.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for this request, or says what to answer instead:
    /// [`IdempotencyStart::Reused`] for a different request hash,
    /// [`IdempotencyStart::InFlight`] while the first is running.
    async fn start(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, DomainError>;
    /// Keeps the answer of a run that changed nothing (a refusal), if the
    /// claim is still this run's; a claim taken over is left alone.
    async fn complete(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredAnswer,
    ) -> Result<(), DomainError>;
    /// Gives the key up so that a retry runs again (the first attempt failed
    /// without effect); only an unanswered claim that is still this run's.
    async fn release(&self, claim: &IdempotencyClaim) -> Result<(), DomainError>;
}
