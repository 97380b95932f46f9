use async_trait::async_trait;

use crate::idempotency::IdempotencyReceipt;
use crate::payment::refund::{Refund, RefundDecision};
use crate::payment::{Payment, PaymentAttempt, PaymentRecord, PaymentRequest};
use crate::{DomainError, PaymentId};

/// Applies payment and refund decisions, each as one transaction or nothing of it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Pays `request` in one atomic write when what the store sees in that
    /// write's own snapshot is payable by
    /// [`PaymentSnapshot::decide`](crate::payment::PaymentSnapshot::decide),
    /// debiting the balance only at the version it saw; else writes nothing
    /// and answers what it saw. With [`Admission::InWrite`](crate::queue::Admission::InWrite)
    /// the token is checked and, for holds, ended in the same write. With a
    /// receipt, its claim is completed in the same write, or nothing is
    /// applied and the answer is [`StoreError::ClaimTakenOver`](crate::StoreError::ClaimTakenOver).
    async fn pay<'a>(
        &self,
        request: &PaymentRequest<'a>,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<PaymentAttempt, DomainError>;
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
