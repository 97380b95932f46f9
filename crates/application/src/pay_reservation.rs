use std::sync::Arc;

use domain::idempotency::IdempotencyReceipt;
use domain::payment::{Payment, PaymentAttempt, PaymentPolicy, PaymentRequest};
use domain::ports::{Clock, PaymentStore, QueueStore, ReservationStore};
use domain::queue::Admission;
use domain::{ConcertId, DomainError, ReservationId, UserId};

use crate::view_reservations::owned;
use crate::{QueueGuard, RetryPolicy};

/// Pays one or several held reservations of one concert from the point
/// balance. The store reads and writes in one atomic step and answers what
/// it saw when it did not pay; the refusal is named here from that, and a
/// lost race (a balance or seat version moved) is retried on a fresh
/// snapshot. An idempotency receipt rides along into that write unchanged.
pub struct PayReservation {
    pub reservations: Arc<dyn ReservationStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub queue: Arc<dyn QueueStore>,
    pub guard: Arc<QueueGuard>,
    pub clock: Arc<dyn Clock>,
    pub retry: RetryPolicy,
    pub policy: PaymentPolicy,
}

/// How this payment's admission is settled before the write.
enum Admitted<'a> {
    /// The store checks the token and ends it in the payment's own write.
    InWrite(&'a str),
    /// Checked through the queue port: ended through it after the payment.
    ByPort(ConcertId),
    /// Waiting-list offers: their own admission, no token to end.
    Offer,
}

impl PayReservation {
    /// With a token and the queue in the payment's database, nothing is read
    /// here: the write judges the token in its own snapshot. Otherwise the
    /// reservations are read for their concert (NOT_FOUND for any that is
    /// not the caller's) and the queue port is asked, unless they are
    /// offers, which are their own admission (a token sent along is not
    /// checked).
    async fn admit<'a>(
        &self,
        user_id: UserId,
        queue_token: Option<&'a str>,
        ids: &[ReservationId],
    ) -> Result<Admitted<'a>, DomainError> {
        if let Some(token) = queue_token.filter(|_| self.queue.shared_with_writes()) {
            return Ok(Admitted::InWrite(token));
        }
        let mut order = Vec::with_capacity(ids.len());
        for &id in ids {
            order.push(owned(self.reservations.find(id).await?, user_id, id)?);
        }
        let (concert_id, offer) = self.policy.order_of(&order)?;
        if offer {
            return Ok(Admitted::Offer);
        }
        match self
            .guard
            .admission(user_id, queue_token, concert_id)
            .await?
        {
            // A missing token was refused above; a shown one is judged in the write.
            Admission::InWrite(token) => Ok(Admitted::InWrite(token)),
            Admission::Checked => Ok(Admitted::ByPort(concert_id)),
        }
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
        let admitted = self.admit(user_id, queue_token, ids).await?;
        let admission = match admitted {
            Admitted::InWrite(token) => Admission::InWrite(token),
            Admitted::ByPort(_) | Admitted::Offer => Admission::Checked,
        };
        let payment = self
            .retry
            .run(|| async move {
                let request = PaymentRequest {
                    user_id,
                    reservation_ids: ids,
                    paid_at: self.clock.now(),
                    admission,
                };
                match self.payments.pay(&request, receipt).await? {
                    PaymentAttempt::Paid(payment) => Ok(payment),
                    PaymentAttempt::Refused(seen) => Err(seen.refusal(&request)),
                }
            })
            .await?;
        // A token checked through the port is ended through it, after the
        // commit; if that fails the token lapses by its TTL while the payment
        // stands. One judged in the write was ended by that write.
        if let Admitted::ByPort(concert_id) = admitted {
            if let Err(error) = self
                .queue
                .expire_active(user_id, concert_id, payment.paid_at)
                .await
            {
                tracing::warn!(%error, "payment committed but the queue token could not be expired");
            }
        }
        Ok(payment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::payment::PaymentSnapshot;
    use domain::points::Balance;
    use domain::ports::{MockClock, MockPaymentStore, MockQueueStore, MockReservationStore};
    use domain::queue::{QueueStatus, QueueTicket};
    use domain::reservation::{Reservation, ReservationStatus};
    use domain::{PaymentId, ScheduleId, SeatId, StoreError, Won};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn reservation(id: i64, status: ReservationStatus, expires_in: i64) -> Reservation {
        Reservation {
            id: ReservationId(id),
            user_id: UserId(1),
            concert_id: ConcertId(2),
            schedule_id: ScheduleId(3),
            seat_id: SeatId(id + 10),
            seat_number: id as u32,
            seat_version: 1,
            price: Won::new(30_000).unwrap(),
            status,
            expires_at: Utc::now() + Duration::seconds(expires_in),
            created_at: Utc::now(),
            offer: false,
        }
    }

    fn held(id: i64) -> Reservation {
        reservation(id, ReservationStatus::Held, 60)
    }

    /// What a store that paid answers.
    fn paid(request: &PaymentRequest<'_>) -> PaymentAttempt {
        PaymentAttempt::Paid(Payment {
            id: PaymentId(1),
            reservation_ids: request.reservation_ids.to_vec(),
            amount: Won::new(30_000).unwrap(),
            balance_after: Won::new(20_000).unwrap(),
            paid_at: request.paid_at,
        })
    }

    /// What a store that did not pay saw.
    fn refused(
        reservations: Vec<Reservation>,
        balance: i64,
        token: Option<QueueStatus>,
    ) -> PaymentAttempt {
        PaymentAttempt::Refused(PaymentSnapshot {
            reservations,
            balance: Balance {
                user_id: UserId(1),
                amount: Won::new(balance).unwrap(),
                version: 3,
            },
            token,
        })
    }

    /// A queue in the payment's database: a token is judged in the write.
    /// Without other expectations, asking it anything panics the mock.
    fn queue_in_the_database() -> MockQueueStore {
        let mut queue = MockQueueStore::new();
        queue.expect_shared_with_writes().return_const(true);
        queue
    }

    /// A queue elsewhere (Redis) that answers the token ACTIVE and expects
    /// `expire_calls` expiries.
    fn queue_elsewhere(expire_calls: usize) -> MockQueueStore {
        let mut queue = MockQueueStore::new();
        queue.expect_shared_with_writes().return_const(false);
        queue.expect_find().returning(|token, _| {
            Ok(Some(QueueTicket::stub(
                token,
                UserId(1),
                ConcertId(2),
                QueueStatus::Active,
            )))
        });
        if expire_calls > 0 {
            queue
                .expect_expire_active()
                .withf(|user, concert, _| *user == UserId(1) && *concert == ConcertId(2))
                .times(expire_calls)
                .returning(|_, _, _| Ok(()));
        }
        queue
    }

    /// Reservations found by id as `found` says; none when `found` is None
    /// (then reading one panics the mock).
    fn use_case(
        found: Option<Reservation>,
        payments: MockPaymentStore,
        queue: MockQueueStore,
    ) -> PayReservation {
        let mut reservations = MockReservationStore::new();
        if let Some(found) = found {
            reservations.expect_find().returning(move |id| {
                Ok(Some(Reservation {
                    id,
                    ..found.clone()
                }))
            });
        }
        let queue: Arc<dyn QueueStore> = Arc::new(queue);
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        PayReservation {
            reservations: Arc::new(reservations),
            payments: Arc::new(payments),
            guard: Arc::new(QueueGuard {
                queue: queue.clone(),
                clock: clock.clone(),
            }),
            queue,
            clock,
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: std::time::Duration::from_micros(1),
                max_delay: std::time::Duration::from_micros(2),
            },
            policy: PaymentPolicy { max_items: 4 },
        }
    }

    #[tokio::test]
    async fn with_the_queue_in_the_database_the_write_judges_and_ends_the_token() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|r, _| {
                r.admission == Admission::InWrite("t")
                    && r.user_id == UserId(1)
                    && r.reservation_ids == [ReservationId(5), ReservationId(6)]
            })
            .times(1)
            .returning(|r, _| Ok(paid(r)));
        // No reservation read, no token lookup, no expiry through the port.
        let uc = use_case(None, payments, queue_in_the_database());
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
    }

    #[tokio::test]
    async fn with_the_queue_elsewhere_the_port_checks_then_expires_the_token() {
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|r, _| r.admission == Admission::Checked)
            .times(1)
            .returning(|r, _| Ok(paid(r)));
        let uc = use_case(Some(held(5)), payments, queue_elsewhere(1));
        let payment = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(payment.balance_after, Won::new(20_000).unwrap());
    }

    #[tokio::test]
    async fn refusals_are_named_from_what_the_store_saw() {
        let mut confirmed = held(5);
        confirmed.status = ReservationStatus::Confirmed;
        let mut others = held(5);
        others.user_id = UserId(9);
        let cases = [
            (
                refused(vec![held(5)], 29_999, Some(QueueStatus::Active)),
                "INSUFFICIENT",
            ),
            (
                refused(
                    vec![reservation(5, ReservationStatus::Held, -1)],
                    50_000,
                    Some(QueueStatus::Active),
                ),
                "EXPIRED",
            ),
            (
                refused(vec![confirmed], 50_000, Some(QueueStatus::Active)),
                "NOT_PAYABLE",
            ),
            (
                refused(vec![others], 50_000, Some(QueueStatus::Active)),
                "NOT_FOUND",
            ),
            (
                refused(vec![held(5)], 50_000, Some(QueueStatus::Waiting)),
                "NOT_ACTIVE",
            ),
            (refused(vec![held(5)], 50_000, None), "INVALID"),
        ];
        for (seen, what) in cases {
            let mut payments = MockPaymentStore::new();
            // Once: a refusal is not retried.
            payments
                .expect_pay()
                .times(1)
                .returning(move |_, _| Ok(seen.clone()));
            let uc = use_case(None, payments, queue_in_the_database());
            let err = uc
                .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
                .await
                .unwrap_err();
            let ok = match what {
                "INSUFFICIENT" => {
                    err == DomainError::InsufficientBalance {
                        needed: Won::new(30_000).unwrap(),
                        available: Won::new(29_999).unwrap(),
                    }
                }
                "EXPIRED" => err == DomainError::ReservationExpired,
                "NOT_PAYABLE" => {
                    err == DomainError::ReservationNotPayable(ReservationStatus::Confirmed)
                }
                "NOT_FOUND" => matches!(err, DomainError::NotFound(_)),
                "NOT_ACTIVE" => err == DomainError::QueueTokenNotActive,
                _ => err == DomainError::QueueTokenInvalid,
            };
            assert!(ok, "{what}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_lost_race_is_tried_again_on_a_fresh_snapshot() {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().times(3).returning(move |r, _| {
            Ok(match seen.fetch_add(1, Ordering::SeqCst) {
                // Payable as seen, yet not paid: a version moved under it.
                0 => refused(vec![held(5)], 50_000, Some(QueueStatus::Active)),
                1 => return Err(StoreError::Conflict.into()),
                _ => paid(r),
            })
        });
        let uc = use_case(None, payments, queue_in_the_database());
        uc.execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_store_failure_midway_is_reported_and_the_token_kept() {
        let mut payments = MockPaymentStore::new();
        payments.expect_pay().returning(|_, _| {
            Err(DomainError::Store(StoreError::unavailable(
                "connection reset",
            )))
        });
        // No expiry expected through the port.
        let uc = use_case(Some(held(5)), payments, queue_elsewhere(0));
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
        payments.expect_pay().times(1).returning(|r, _| Ok(paid(r)));
        let mut queue = queue_elsewhere(0);
        queue
            .expect_expire_active()
            .times(1)
            .returning(|_, _, _| Err(DomainError::Store(StoreError::unavailable("redis down"))));
        let uc = use_case(Some(held(5)), payments, queue);
        let payment = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap();
        assert_eq!(payment.balance_after, Won::new(20_000).unwrap());
    }

    #[tokio::test]
    async fn someone_elses_reservation_is_not_found_before_the_queue_is_asked() {
        let mut found = held(5);
        found.user_id = UserId(9);
        let mut queue = MockQueueStore::new();
        queue.expect_shared_with_writes().return_const(false);
        let uc = use_case(Some(found), MockPaymentStore::new(), queue);
        let err = uc
            .execute(UserId(1), Some("t"), &[ReservationId(5)], None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::NotFound(_)));
    }

    #[tokio::test]
    async fn repeated_ids_are_refused_before_any_lookup() {
        let uc = use_case(None, MockPaymentStore::new(), MockQueueStore::new());
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
        let mut offer = held(5);
        offer.offer = true;
        let mut payments = MockPaymentStore::new();
        payments
            .expect_pay()
            .withf(|r, _| r.admission == Admission::Checked)
            .times(1)
            .returning(|r, _| Ok(paid(r)));
        // Without a token the reservations are read; the queue is neither asked nor told.
        let uc = use_case(Some(offer), payments, queue_in_the_database());
        uc.execute(UserId(1), None, &[ReservationId(5)], None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_hold_without_a_token_is_refused_before_the_write() {
        let uc = use_case(
            Some(held(5)),
            MockPaymentStore::new(),
            queue_in_the_database(),
        );
        let err = uc
            .execute(UserId(1), None, &[ReservationId(5)], None)
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::QueueTokenInvalid);
    }
}
