use async_trait::async_trait;

use crate::idempotency::IdempotencyReceipt;
use crate::points::{Balance, BalanceChange, PointEntry};
use crate::{DomainError, Page, PageRequest, UserId};

/// Point balances and their history.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PointStore: Send + Sync {
    /// The balance, zero with version 0 when the user never had one.
    async fn balance(&self, user_id: UserId) -> Result<Balance, DomainError>;
    /// Applies the change and its history entry in one transaction;
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) if the version moved. With a
    /// receipt, its claim is completed in the same transaction, or nothing is
    /// applied and the answer is [`StoreError::ClaimTakenOver`](crate::StoreError::ClaimTakenOver).
    async fn apply<'a>(
        &self,
        change: &BalanceChange,
        receipt: Option<&'a IdempotencyReceipt<Balance>>,
    ) -> Result<Balance, DomainError>;
    /// Newest first, one page at a time.
    async fn history(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<PointEntry>, DomainError>;
}
