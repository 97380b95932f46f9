use std::sync::Arc;

use domain::idempotency::IdempotencyReceipt;
use domain::payment::refund::{Refund, RefundPolicy};
use domain::ports::{Clock, ConcertRepository, PaymentStore, PointStore};
use domain::{DomainError, PaymentId, StoreError, UserId};

use crate::view_payment::owned_payment;
use crate::RetryPolicy;

/// Gives a payment back: the balance rises by its amount, its reservations
/// become REFUNDED and their seats free, in one store transaction; a lost
/// balance race is retried, a lost refund race is ALREADY_REFUNDED.
pub struct RefundPayment {
    pub payments: Arc<dyn PaymentStore>,
    pub points: Arc<dyn PointStore>,
    pub concerts: Arc<dyn ConcertRepository>,
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
    pub policy: RefundPolicy,
}

impl RefundPayment {
    #[tracing::instrument(skip(self, receipt))]
    pub async fn execute(
        &self,
        user_id: UserId,
        id: PaymentId,
        receipt: Option<&IdempotencyReceipt<Refund>>,
    ) -> Result<Refund, DomainError> {
        self.retry
            .run(|| async {
                let payment = owned_payment(self.payments.find(id).await?, user_id, id)?;
                let mut earliest = None;
                for r in &payment.reservations {
                    let schedule = self
                        .concerts
                        .find_schedule(r.schedule_id)
                        .await?
                        .ok_or_else(|| {
                            DomainError::Store(StoreError::internal(format!(
                                "schedule {} is gone",
                                r.schedule_id
                            )))
                        })?;
                    earliest = Some(
                        earliest
                            .map_or(schedule.starts_at, |e| std::cmp::min(e, schedule.starts_at)),
                    );
                }
                let earliest = earliest.ok_or_else(|| {
                    DomainError::Store(StoreError::internal(format!("payment {id} covers nothing")))
                })?;
                let balance = self.points.balance(user_id).await?;
                let decision =
                    self.policy
                        .decide(&payment, earliest, &balance, self.clock.now())?;
                self.payments.refund(&decision, receipt).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::concert::Schedule;
    use domain::payment::PaymentRecord;
    use domain::points::Balance;
    use domain::ports::{MockClock, MockConcertRepository, MockPaymentStore, MockPointStore};
    use domain::reservation::{Reservation, ReservationStatus};
    use domain::{ConcertId, PointChange, ReservationId, ScheduleId, SeatId, Won};

    fn reservation(id: i64, schedule: i64) -> Reservation {
        Reservation {
            id: ReservationId(id),
            user_id: UserId(1),
            concert_id: ConcertId(1),
            schedule_id: ScheduleId(schedule),
            seat_id: SeatId(id),
            seat_number: id as u32,
            seat_version: 1,
            price: Won::new(100).unwrap(),
            status: ReservationStatus::Confirmed,
            expires_at: Utc::now(),
            created_at: Utc::now(),
            offer: false,
        }
    }

    fn payment(owner: i64, refunded: bool) -> PaymentRecord {
        PaymentRecord {
            id: PaymentId(3),
            user_id: UserId(owner),
            reservations: vec![reservation(1, 10), reservation(2, 20)],
            amount: Won::new(200).unwrap(),
            paid_at: Utc::now(),
            refunded_at: refunded.then(Utc::now),
        }
    }

    /// Schedule 10 starts in `first_in` seconds, schedule 20 in two days.
    fn use_case(found: PaymentRecord, first_in: i64, payments: MockPaymentStore) -> RefundPayment {
        let now = Utc::now();
        let mut payments = payments;
        payments
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(move |id| {
            let starts_in = if id == ScheduleId(10) {
                first_in
            } else {
                172_800
            };
            Ok(Some(Schedule {
                id,
                concert_id: ConcertId(1),
                starts_at: now + Duration::seconds(starts_in),
                price: Won::new(100).unwrap(),
                seat_count: 10,
            }))
        });
        let mut points = MockPointStore::new();
        points.expect_balance().returning(|user_id| {
            Ok(Balance {
                user_id,
                amount: Won::new(1_000_000_000).unwrap(),
                version: 5,
            })
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        RefundPayment {
            payments: Arc::new(payments),
            points: Arc::new(points),
            concerts: Arc::new(concerts),
            clock: Arc::new(clock),
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: std::time::Duration::from_micros(1),
                max_delay: std::time::Duration::from_micros(2),
            },
            policy: RefundPolicy {
                cutoff: Duration::seconds(86_400),
            },
        }
    }

    fn refunded(
        d: &domain::payment::refund::RefundDecision,
        _: Option<&IdempotencyReceipt<Refund>>,
    ) -> Result<Refund, DomainError> {
        let mut payment = payment(1, true);
        payment.refunded_at = Some(d.refunded_at);
        Ok(Refund {
            payment,
            balance_after: d.credit.new_amount,
        })
    }

    #[tokio::test]
    async fn one_decision_credits_past_the_cap_and_frees_every_seat() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_refund()
            .withf(|d, _| {
                d.credit.delta == PointChange::new(200)
                    && d.credit.new_amount == Won::new(1_000_000_200).unwrap()
                    && d.credit.expected_version == 5
                    && d.items.len() == 2
            })
            .times(1)
            .returning(refunded);
        let uc = use_case(payment(1, false), 172_800, payments);
        let refund = uc.execute(UserId(1), PaymentId(3), None).await.unwrap();
        assert_eq!(refund.balance_after, Won::new(1_000_000_200).unwrap());
    }

    #[tokio::test]
    async fn refusals_never_reach_the_store() {
        type Case = (PaymentRecord, i64, fn(&DomainError) -> bool);
        let cases: [Case; 3] = [
            (payment(2, false), 172_800, |e| {
                matches!(e, DomainError::NotFound(_))
            }),
            (payment(1, true), 172_800, |e| {
                *e == DomainError::AlreadyRefunded
            }),
            // The earliest schedule decides, not the later one.
            (payment(1, false), 86_000, |e| {
                *e == DomainError::RefundClosed
            }),
        ];
        for (found, first_in, expected) in cases {
            let uc = use_case(found, first_in, MockPaymentStore::new());
            let err = uc.execute(UserId(1), PaymentId(3), None).await.unwrap_err();
            assert!(expected(&err), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_lost_balance_race_is_retried_then_sees_the_winner() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_refund()
            .times(2)
            .returning(|_, _| Err(DomainError::Store(StoreError::Conflict)));
        let uc = use_case(payment(1, false), 172_800, payments);
        assert_eq!(
            uc.execute(UserId(1), PaymentId(3), None).await.unwrap_err(),
            DomainError::Store(StoreError::Conflict)
        );
    }
}
