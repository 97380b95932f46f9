use async_trait::async_trait;

use crate::idempotency::IdempotencyReceipt;
use crate::payment::refund::{Refund, RefundDecision};
use crate::payment::{Payment, PaymentDecision, PaymentRecord};
use crate::{DomainError, PaymentId};

/// Applies payment and refund decisions, each as one transaction or nothing of it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) when the balance version moved;
    /// [`DomainError::ReservationNotPayable`] / [`DomainError::ReservationExpired`]
    /// when a reservation is no longer HELD and unexpired. With a receipt,
    /// its claim is completed in the same transaction, or nothing is applied
    /// and the answer is [`StoreError::ClaimTakenOver`](crate::StoreError::ClaimTakenOver).
    async fn pay<'a>(
        &self,
        decision: &PaymentDecision,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError>;
    /// The payment and its reservations.
    async fn find(&self, id: PaymentId) -> Result<Option<PaymentRecord>, DomainError>;
    /// [`DomainError::AlreadyRefunded`] when another refund won;
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) when the balance version moved.
    /// A receipt is completed in the same transaction, as for `pay`.
    async fn refund<'a>(
        &self,
        decision: &RefundDecision,
        receipt: Option<&'a IdempotencyReceipt<Refund>>,
    ) -> Result<Refund, DomainError>;
}
