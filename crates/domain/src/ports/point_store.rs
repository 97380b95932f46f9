use async_trait::async_trait;

use crate::points::{Balance, BalanceChange, PointEntry};
use crate::{DomainError, Page, PageRequest, UserId};

/// Point balances and their history.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PointStore: Send + Sync {
    /// The balance, zero with version 0 when the user never had one.
    async fn balance(&self, user_id: UserId) -> Result<Balance, DomainError>;
    /// Applies the change and its history entry in one transaction;
    /// [`DomainError::ConcurrentModification`] if the version moved.
    async fn apply(&self, change: &BalanceChange) -> Result<Balance, DomainError>;
    /// Newest first, one page at a time.
    async fn history(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<PointEntry>, DomainError>;
}
