use std::sync::Arc;

use domain::idempotency::IdempotencyReceipt;
use domain::points::{Balance, BalanceChange, PointEntryKind};
use domain::ports::{Clock, PointStore};
use domain::{DomainError, PointChange, UserId, Won};

use crate::view_points::ensure_self;
use crate::RetryPolicy;

/// Adds points. A lost version race re-reads and retries inside the server,
/// so concurrent charges all land and none is counted twice. An idempotency
/// receipt rides along into the store's transaction unchanged.
pub struct ChargePoints {
    pub points: Arc<dyn PointStore>,
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
}

impl ChargePoints {
    #[tracing::instrument(skip(self, receipt))]
    pub async fn execute(
        &self,
        caller: UserId,
        owner: UserId,
        amount: i64,
        receipt: Option<&IdempotencyReceipt<Balance>>,
    ) -> Result<Balance, DomainError> {
        ensure_self(caller, owner)?;
        let amount = Won::price(amount)?;
        self.retry
            .run(|| async {
                let balance = self.points.balance(owner).await?;
                let change = BalanceChange {
                    user_id: owner,
                    expected_version: balance.version,
                    kind: PointEntryKind::Charge,
                    delta: PointChange::credit(amount),
                    new_amount: balance.after_charge(amount)?,
                    at: self.clock.now(),
                };
                self.points.apply(&change, receipt).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockPointStore};
    use domain::StoreError;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::Duration;

    fn use_case(points: MockPointStore) -> ChargePoints {
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        ChargePoints {
            points: Arc::new(points),
            clock: Arc::new(clock),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_micros(1),
                max_delay: Duration::from_micros(5),
            },
        }
    }

    fn balance(amount: i64, version: i64) -> Balance {
        Balance {
            user_id: UserId(1),
            amount: Won::new(amount).unwrap(),
            version,
        }
    }

    #[tokio::test]
    async fn lost_race_rereads_and_retries() {
        let version = Arc::new(AtomicI64::new(0));
        let mut points = MockPointStore::new();
        let v = version.clone();
        points.expect_balance().returning(move |_| {
            Ok(balance(
                100 * v.load(Ordering::SeqCst),
                v.load(Ordering::SeqCst),
            ))
        });
        let v = version.clone();
        points.expect_apply().times(2).returning(move |change, _| {
            // Someone else charged between our read and our write, once.
            if v.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(DomainError::Store(StoreError::Conflict));
            }
            Ok(balance(
                change.new_amount.value(),
                change.expected_version + 1,
            ))
        });
        let result = use_case(points)
            .execute(UserId(1), UserId(1), 50, None)
            .await
            .unwrap();
        assert_eq!(result.amount, Won::new(150).unwrap());
    }

    #[tokio::test]
    async fn gives_up_with_409_after_the_bound() {
        let mut points = MockPointStore::new();
        points.expect_balance().returning(|_| Ok(balance(0, 0)));
        points
            .expect_apply()
            .times(3)
            .returning(|_, _| Err(DomainError::Store(StoreError::Conflict)));
        let err = use_case(points)
            .execute(UserId(1), UserId(1), 50, None)
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::Store(StoreError::Conflict));
    }

    #[tokio::test]
    async fn refuses_others_bad_amounts_and_the_limit() {
        let uc = use_case(MockPointStore::new());
        assert!(matches!(
            uc.execute(UserId(1), UserId(2), 1, None).await,
            Err(DomainError::Forbidden(_))
        ));
        for amount in [0, -1, 10_000_001, i64::MAX] {
            assert!(matches!(
                uc.execute(UserId(1), UserId(1), amount, None).await,
                Err(DomainError::Validation(_))
            ));
        }
        let mut points = MockPointStore::new();
        points
            .expect_balance()
            .returning(|_| Ok(balance(999_999_999, 4)));
        let err = use_case(points)
            .execute(UserId(1), UserId(1), 2, None)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::BalanceLimitExceeded {
                limit: Won::new(1_000_000_000).unwrap()
            }
        );
    }

    #[tokio::test]
    async fn the_receipt_reaches_the_store_unchanged() {
        use domain::idempotency::{IdempotencyClaim, IdempotencyKey, IdempotencyScope};
        let mut points = MockPointStore::new();
        points.expect_balance().returning(|_| Ok(balance(0, 0)));
        points
            .expect_apply()
            .withf(|_, receipt| receipt.is_some_and(|r| r.fence == 42))
            .times(1)
            .returning(|change, _| Ok(balance(change.new_amount.value(), 1)));
        let claim = IdempotencyClaim {
            scope: IdempotencyScope {
                user_id: UserId(1),
                endpoint: "charge",
                key: IdempotencyKey::parse("k").unwrap(),
            },
            fence: 42,
        };
        let receipt = IdempotencyReceipt::new(
            &claim,
            Arc::new(|b: &Balance| domain::idempotency::StoredAnswer {
                outcome: 200,
                body: b.amount.value().to_string(),
            }),
        );
        let result = use_case(points)
            .execute(UserId(1), UserId(1), 50, Some(&receipt))
            .await
            .unwrap();
        assert_eq!(result.amount, Won::new(50).unwrap());
    }
}
