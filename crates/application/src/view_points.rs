use std::sync::Arc;

use domain::points::{Balance, PointEntry};
use domain::ports::PointStore;
use domain::{DomainError, UserId};

/// A user's own balance and history.
pub struct ViewPoints {
    pub points: Arc<dyn PointStore>,
}

impl ViewPoints {
    pub async fn balance(&self, caller: UserId, owner: UserId) -> Result<Balance, DomainError> {
        ensure_self(caller, owner)?;
        self.points.balance(owner).await
    }

    pub async fn history(
        &self,
        caller: UserId,
        owner: UserId,
    ) -> Result<Vec<PointEntry>, DomainError> {
        ensure_self(caller, owner)?;
        self.points.history(owner).await
    }
}

/// Points are private: only their owner may read or charge them.
pub(crate) fn ensure_self(caller: UserId, owner: UserId) -> Result<(), DomainError> {
    if caller == owner {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "points belong to another user".into(),
        ))
    }
}
