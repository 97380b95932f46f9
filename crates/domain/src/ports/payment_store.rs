use async_trait::async_trait;

use crate::idempotency::IdempotencyReceipt;
use crate::payment::{Payment, PaymentDecision};
use crate::DomainError;

/// Applies a payment decision as one transaction, or nothing of it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// [`DomainError::ConcurrentModification`] when the balance version moved;
    /// [`DomainError::ReservationNotPayable`] / [`DomainError::ReservationExpired`]
    /// when the reservation is no longer HELD and unexpired. With a receipt,
    /// its claim is completed in the same transaction, or nothing is applied
    /// and the answer is [`DomainError::IdempotencyKeyInFlight`].
    async fn pay<'a>(
        &self,
        decision: &PaymentDecision,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError>;
}
