use std::sync::Arc;

use domain::idempotency::IdempotencyReceipt;
use domain::payment::{Payment, PaymentPolicy};
use domain::ports::{Clock, PaymentStore, PointStore, QueueStore, ReservationStore};
use domain::reservation::Reservation;
use domain::{DomainError, ReservationId, UserId};

use crate::view_reservations::owned;
use crate::{QueueGuard, RetryPolicy};

/// Pays one or several held reservations of one concert from the point
/// balance. The decision is applied by the payment store in one transaction;
/// a lost balance race is retried. An idempotency receipt rides along into
/// that transaction unchanged.
pub struct PayReservation {
    pub reservations: Arc<dyn ReservationStore>,
    pub points: Arc<dyn PointStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub queue: Arc<dyn QueueStore>,
    pub guard: Arc<QueueGuard>,
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
    pub policy: PaymentPolicy,
}

impl PayReservation {
    /// The caller's reservations in request order; NOT_FOUND for any that is not theirs.
    async fn load(
        &self,
        user_id: UserId,
        ids: &[ReservationId],
    ) -> Result<Vec<Reservation>, DomainError> {
        let mut found = Vec::with_capacity(ids.len());
        for &id in ids {
            found.push(owned(self.reservations.find(id).await?, user_id, id)?);
        }
        Ok(found)
    }

    /// One decision on `reservations` and the current balance, applied by the store.
    async fn attempt(
        &self,
        user_id: UserId,
        reservations: &[Reservation],
        receipt: Option<&IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError> {
        let now = self.clock.now();
        let balance = self.points.balance(user_id).await?;
        let decision = self.policy.decide(reservations, &balance, now)?;
        self.payments.pay(&decision, receipt).await
    }

    #[tracing::instrument(skip(self, queue_token, receipt))]
    pub async fn execute(
        &self,
        user_id: UserId,
        queue_token: Option<&str>,
        ids: &[ReservationId],
        receipt: Option<&IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError> {
        self.policy.check_ids(ids)?;
        let first_read = self.load(user_id, ids).await?;
        let (concert_id, offer) = self.policy.order_of(&first_read)?;
        // An offer is its own admission: a token sent along is not checked.
        if !offer {
            self.guard.check(user_id, queue_token, concert_id).await?;
        }
        // The first attempt decides on the first read; a retry re-reads, as a
        // racing payment may have confirmed one.
        let mut first_read = Some(first_read);
        let payment = self
            .retry
            .run(|| {
                let known = first_read.take();
                async move {
                    let reservations = match known {
                        Some(read) => read,
                        None => self.load(user_id, ids).await?,
                    };
                    self.attempt(user_id, &reservations, receipt).await
                }
            })
            .await?;
        if offer {
            return Ok(payment);
        }
        // The token is ended in one place, the queue's own port, after the
        // commit (wherever the queue lives); if that fails the token lapses by
        // its TTL while the payment stands.
        if let Err(error) = self
            .queue
            .expire_active(user_id, concert_id, payment.paid_at)
            .await
        {
            tracing::warn!(%error, "payment committed but the queue token could not be expired");
        }
        Ok(payment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::payment::PaymentDecision;
    use domain::points::Balance;
    use domain::ports::{
        MockClock, MockPaymentStore, MockPointStore, MockQueueStore, MockReservationStore,
    };
    use domain::queue::{QueueStatus, QueueTicket, QueueToken};
    use domain::reservation::{Reservation, ReservationStatus};
    use domain::{ConcertId, PaymentId, PointChange, ScheduleId, SeatId, StoreError, Won};

    fn reservation(status: ReservationStatus, expires_in: i64) -> Reservation {
        Reservation {
            id: ReservationId(5),
            user_id: UserId(1),
            concert_id: ConcertId(2),
            schedule_id: ScheduleId(3),
            seat_id: SeatId(4),
            seat_number: 4,
            seat_version: 1,
            price: Won::new(30_000).unwrap(),
            status,
            expires_at: Utc::now() + Duration::seconds(expires_in),
            created_at: Utc::now(),
            offer: false,
        }
    }

    /// What a store that applied the decision answers.
    fn paid(
        d: &PaymentDecision,
        _: Option<&IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError> {
        Ok(Payment {
            id: PaymentId(1),
            reservation_ids: d.items.iter().map(|i| i.reservation_id).collect(),
            amount: d.amount,
            balance_after: d.debit.new_amount,
            paid_at: d.paid_at,
        })
    }

    fn active_queue() -> MockQueueStore {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(|token, _| {
            Ok(Some(QueueTicket {
                token: QueueToken(token.into()),
                user_id: UserId(1),
                concert_id: ConcertId(2),
                status: QueueStatus::Active,
                position: 0,
                expires_at: None,
                admission_rate: None,
            }))
        });
        queue
    }

    fn use_case(
        found: Reservation,
        balance: i64,
        payments: MockPaymentStore,
        mut queue: MockQueueStore,
        expire_calls: usize,
    ) -> PayReservation {
        let mut reservations = MockReservationStore::new();
        reservations.expect_find().returning(move |id| {
            Ok(Some(Reservation {
                id,
                ..found.clone()
            }))
        });
        let mut points = MockPointStore::new();
        points.expect_balance().returning(move |user_id| {
            Ok(Balance {
                user_id,
                amount: Won::new(balance).unwrap(),
                version: 3,
            })
        });
        // Without an expectation, a call to the queue panics the mock.
        if expire_calls > 0 {
            queue
                .expect_expire_active()
                .times(expire_calls)
                .returning(|_, _, _| Ok(()));
        }
        let queue: Arc<dyn QueueStore> = Arc::new(queue);
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        PayReservation {
            reservations: Arc::new(reservations),
            points: Arc::new(points),
            payments: Arc::new(payments),
            guard: Arc::new(QueueGuard {
                queue: queue.clone(),
                clock: clock.clone(),
            }),
            queue,
            clock,
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: std::time::Duration::from_micros(1),
                max_delay: std::time::Duration::from_micros(2),
            },
            policy: PaymentPolicy { max_items: 4 },
        }
    }

    #[tokio::test]
    async fn one_decision_debits_the_price_then_expires_the_token() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|d, _| {
                d.amount == Won::new(30_000).unwrap()
                    && d.debit.new_amount == Won::new(20_000).unwrap()
                    && d.debit.delta == PointChange::new(-30_000)
                    && d.debit.expected_version == 3
                    && d.items[0].seat_id == SeatId(4)
            })
            .times(1)
            .returning(paid);
        let uc = use_case(
            reservation(ReservationStatus::Held, 60),
            50_000,
            payments,
            active_queue(),
            1,
        );
        let payment = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(payment.balance_after, Won::new(20_000).unwrap());
    }

    #[tokio::test]
    async fn refusals_change_nothing() {
        let cases = [
            (
                reservation(ReservationStatus::Held, 60),
                29_999,
                "INSUFFICIENT",
            ),
            (reservation(ReservationStatus::Held, -1), 50_000, "EXPIRED"),
            (
                reservation(ReservationStatus::Confirmed, 60),
                50_000,
                "NOT_PAYABLE",
            ),
        ];
        for (found, balance, what) in cases {
            // No pay() expectation: calling the store would panic the mock.
            let uc = use_case(found, balance, MockPaymentStore::new(), active_queue(), 0);
            let err = uc
                .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
                .await
                .unwrap_err();
            let ok = match what {
                "INSUFFICIENT" => matches!(err, DomainError::InsufficientBalance { .. }),
                "EXPIRED" => err == DomainError::ReservationExpired,
                _ => matches!(err, DomainError::ReservationNotPayable(_)),
            };
            assert!(ok, "{what}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_store_failure_midway_is_reported_and_the_token_kept() {
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().returning(|_, _| {
            Err(DomainError::Store(StoreError::unavailable(
                "connection reset",
            )))
        });
        let uc = use_case(
            reservation(ReservationStatus::Held, 60),
            50_000,
            payments,
            active_queue(),
            0,
        );
        let err = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DomainError::Store(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn the_payment_stands_when_the_queue_cannot_be_told() {
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().times(1).returning(paid);
        let mut queue = active_queue();
        queue
            .expect_expire_active()
            .times(1)
            .returning(|_, _, _| Err(DomainError::Store(StoreError::unavailable("redis down"))));
        let uc = use_case(
            reservation(ReservationStatus::Held, 60),
            50_000,
            payments,
            queue,
            0,
        );
        let payment = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(payment.balance_after, Won::new(20_000).unwrap());
    }

    #[tokio::test]
    async fn someone_elses_reservation_is_not_found() {
        let mut found = reservation(ReservationStatus::Held, 60);
        found.user_id = UserId(9);
        let uc = use_case(
            found,
            50_000,
            MockPaymentStore::new(),
            MockQueueStore::new(),
            0,
        );
        let err = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::NotFound(_)));
    }

    #[tokio::test]
    async fn several_seats_are_one_debit_of_the_sum() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|d, _| {
                d.items.len() == 2
                    && d.items[1].reservation_id == ReservationId(6)
                    && d.amount == Won::new(60_000).unwrap()
                    && d.debit.delta == PointChange::new(-60_000)
                    && !d.offer
            })
            .times(1)
            .returning(paid);
        let uc = use_case(
            reservation(ReservationStatus::Held, 60),
            60_000,
            payments,
            active_queue(),
            1,
        );
        let payment = uc
            .execute(
                UserId(1),
                Some("t"),
                &[ReservationId(5), ReservationId(6)],
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            payment.reservation_ids,
            [ReservationId(5), ReservationId(6)]
        );
        let err = uc
            .execute(
                UserId(1),
                Some("t"),
                &[ReservationId(5), ReservationId(5)],
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Validation(_)));
    }

    #[tokio::test]
    async fn an_offer_needs_no_token_and_expires_none() {
        let mut offer = reservation(ReservationStatus::Held, 60);
        offer.offer = true;
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|d, _| d.offer)
            .times(1)
            .returning(paid);
        // A queue mock without expectations: checking or expiring a token would panic.
        let uc = use_case(offer, 30_000, payments, MockQueueStore::new(), 0);
        let payment = uc
            .execute(UserId(1), None, &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(payment.balance_after, Won::new(0).unwrap());
    }
}
