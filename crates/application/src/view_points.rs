use std::sync::Arc;

use domain::points::{Balance, PointEntry};
use domain::ports::PointStore;
use domain::{DomainError, Page, PageRequest, UserId};

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
        page: PageRequest,
    ) -> Result<Page<PointEntry>, DomainError> {
        ensure_self(caller, owner)?;
        self.points.history(owner, page).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::MockPointStore;
    use domain::Won;

    #[tokio::test]
    async fn only_the_owner_reads_points() {
        let mut points = MockPointStore::new();
        points.expect_balance().times(1).returning(|user_id| {
            Ok(Balance {
                user_id,
                amount: Won::new(5).unwrap(),
                version: 1,
            })
        });
        points.expect_history().times(0);
        let uc = ViewPoints {
            points: Arc::new(points),
        };
        assert_eq!(
            uc.balance(UserId(1), UserId(1)).await.unwrap().amount,
            Won::new(5).unwrap()
        );
        assert!(matches!(
            uc.balance(UserId(1), UserId(2)).await,
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            uc.history(UserId(1), UserId(2), PageRequest::first()).await,
            Err(DomainError::Forbidden(_))
        ));
    }
}
