use async_trait::async_trait;

use crate::payment::{Payment, PaymentDecision};
use crate::DomainError;

/// Applies a payment decision as one transaction, or nothing of it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// [`DomainError::ConcurrentModification`] when the balance version moved;
    /// [`DomainError::ReservationNotPayable`] / [`DomainError::ReservationExpired`]
    /// when the reservation is no longer HELD and unexpired.
    async fn pay(&self, decision: &PaymentDecision) -> Result<Payment, DomainError>;
}
