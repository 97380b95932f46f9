use async_trait::async_trait;

use crate::payment::refund::{Refund, RefundDecision};
use crate::payment::{Payment, PaymentDecision, PaymentRecord};
use crate::{DomainError, PaymentId};

/// Applies payment and refund decisions, each as one transaction or nothing of it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// [`DomainError::ConcurrentModification`] when the balance version moved;
    /// [`DomainError::ReservationNotPayable`] / [`DomainError::ReservationExpired`]
    /// when a reservation is no longer HELD and unexpired.
    async fn pay(&self, decision: &PaymentDecision) -> Result<Payment, DomainError>;
    /// The payment and its reservations.
    async fn find(&self, id: PaymentId) -> Result<Option<PaymentRecord>, DomainError>;
    /// [`DomainError::AlreadyRefunded`] when another refund won;
    /// [`DomainError::ConcurrentModification`] when the balance version moved.
    async fn refund(&self, decision: &RefundDecision) -> Result<Refund, DomainError>;
}
