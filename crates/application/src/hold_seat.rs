use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, ReservationStore, SeatRepository};
use domain::reservation::{HoldPolicy, Reservation};
use domain::{DomainError, ScheduleId, SeatId, UserId};

use crate::{QueueGuard, RetryPolicy};

/// Holds a seat for a few minutes, in one write of the store: the schedule
/// and the concert's terms come from caches, and the seat, the limits and
/// (when the queue shares the database) the queue token are all checked by
/// the store's write itself, which answers with what it saw when it refuses.
/// Losing a seat race is final (someone else has the seat, and the client
/// hears so at once); only a write overtaken by another write of the same
/// user's holds is retried, a bounded number of times.
pub struct HoldSeat {
    pub concerts: Arc<dyn ConcertRepository>,
    /// Read only to name a refusal decided before the store is asked.
    pub seats: Arc<dyn SeatRepository>,
    pub reservations: Arc<dyn ReservationStore>,
    pub guard: Arc<QueueGuard>,
    pub clock: Arc<dyn Clock>,
    pub policy: HoldPolicy,
    pub retry: RetryPolicy,
}

impl HoldSeat {
    /// Retries for a write overtaken by the same user's other hold (or an
    /// offer to them): each loss is another write's success, which one user
    /// cannot have many of at once, so a few quick attempts suffice.
    pub const RETRY: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(20),
    };

    #[tracing::instrument(skip(self, queue_token))]
    pub async fn execute(
        &self,
        user_id: UserId,
        queue_token: Option<&str>,
        schedule_id: ScheduleId,
        seat_id: SeatId,
    ) -> Result<Reservation, DomainError> {
        let not_found =
            || DomainError::not_found(format!("seat {seat_id} of schedule {schedule_id}"));
        let schedule = self
            .concerts
            .find_schedule(schedule_id)
            .await?
            .ok_or_else(not_found)?;
        let concert = self
            .concerts
            .find(schedule.concert_id)
            .await?
            .ok_or_else(not_found)?;
        let now = self.clock.now();
        let hold = match self
            .policy
            .decide(user_id, concert.sale(), &schedule, seat_id, now)
        {
            Ok(hold) => hold,
            Err(closed) => {
                // Refused before the store: the seat and the token still
                // answer first, as the contract orders it.
                self.ensure_seat(schedule_id, seat_id).await?;
                self.guard
                    .check(user_id, queue_token, schedule.concert_id)
                    .await?;
                return Err(closed);
            }
        };
        let admission = match self
            .guard
            .admission(user_id, queue_token, schedule.concert_id)
            .await
        {
            Ok(admission) => admission,
            Err(refused) => {
                self.ensure_seat(schedule_id, seat_id).await?;
                return Err(refused);
            }
        };
        self.retry
            .run(|| self.reservations.hold(&hold, admission))
            .await
    }

    /// NOT_FOUND unless the seat exists in the schedule: for refusals the
    /// use case decides before any write, which must still name an unknown
    /// seat first.
    async fn ensure_seat(
        &self,
        schedule_id: ScheduleId,
        seat_id: SeatId,
    ) -> Result<(), DomainError> {
        self.seats
            .find(seat_id)
            .await?
            .filter(|s| s.schedule_id == schedule_id)
            .map(|_| ())
            .ok_or_else(|| {
                DomainError::not_found(format!("seat {seat_id} of schedule {schedule_id}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration as StdDuration;

    use chrono::{Duration, Utc};
    use domain::concert::{Concert, Schedule};
    use domain::ports::{
        MockClock, MockConcertRepository, MockQueueStore, MockReservationStore, MockSeatRepository,
    };
    use domain::queue::{Admission, QueueStatus, QueueTicket};
    use domain::reservation::{NewHold, ReservationStatus};
    use domain::seat::{Seat, SeatStatus};
    use domain::{ConcertId, ReservationId, StoreError, Won};

    /// Where the queue lives, and what it says of the caller's token.
    #[derive(Clone, Copy)]
    enum Queue {
        /// In the database of the seats: the store checks the token.
        Shared,
        /// Elsewhere (Redis): asked first; the token has this status.
        Apart(QueueStatus),
    }

    /// Schedule 3 of concert 1, starting in an hour or `closed` already.
    fn concerts(closed: bool) -> MockConcertRepository {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(move |id| {
            Ok((id == ScheduleId(3)).then(|| Schedule {
                id,
                concert_id: ConcertId(1),
                starts_at: Utc::now() + Duration::hours(if closed { -1 } else { 1 }),
                price: Won::new(1000).unwrap(),
                seat_count: 10,
            }))
        });
        concerts.expect_find().returning(|id| {
            Ok(Some(Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: Utc::now(),
                max_tickets_per_user: 3,
            }))
        });
        concerts
    }

    /// Seat 7, in `schedule`; asking for it at all is optional per test.
    fn seats(schedule: Option<i64>) -> MockSeatRepository {
        let mut seats = MockSeatRepository::new();
        if let Some(schedule) = schedule {
            seats.expect_find().returning(move |id| {
                Ok(Some(Seat {
                    id,
                    schedule_id: ScheduleId(schedule),
                    seat_number: 7,
                    price: Won::new(1000).unwrap(),
                    status: SeatStatus::Available,
                    hold_expires_at: None,
                    version: 2,
                }))
            });
        }
        seats
    }

    fn queue(queue: Queue) -> MockQueueStore {
        let mut store = MockQueueStore::new();
        store
            .expect_shared_with_writes()
            .return_const(matches!(queue, Queue::Shared));
        if let Queue::Apart(status) = queue {
            store.expect_find().returning(move |token, _| {
                Ok(Some(QueueTicket::stub(
                    token,
                    UserId(1),
                    ConcertId(1),
                    status,
                )))
            });
        }
        // Shared: no expectation on `find`, so asking the queue would panic.
        store
    }

    fn use_case(
        concerts: MockConcertRepository,
        seats: MockSeatRepository,
        queue: MockQueueStore,
        reservations: MockReservationStore,
    ) -> HoldSeat {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        HoldSeat {
            concerts: Arc::new(concerts),
            seats: Arc::new(seats),
            reservations: Arc::new(reservations),
            guard: Arc::new(QueueGuard {
                queue: Arc::new(queue),
                clock: clock.clone(),
            }),
            clock,
            policy: HoldPolicy {
                hold_ttl: Duration::seconds(300),
                max_holds_per_user: 4,
            },
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: StdDuration::from_micros(1),
                max_delay: StdDuration::from_micros(10),
            },
        }
    }

    fn held(h: &NewHold) -> Reservation {
        Reservation {
            id: ReservationId(1),
            user_id: h.user_id,
            concert_id: h.concert_id,
            schedule_id: h.schedule_id,
            seat_id: h.seat_id,
            seat_number: 7,
            seat_version: 3,
            price: Won::new(1000).unwrap(),
            status: ReservationStatus::Held,
            expires_at: h.expires_at,
            created_at: h.now,
            offer: false,
        }
    }

    async fn hold(uc: &HoldSeat) -> Result<Reservation, DomainError> {
        uc.execute(UserId(1), Some("t"), ScheduleId(3), SeatId(7))
            .await
    }

    #[tokio::test]
    async fn with_the_queue_in_the_database_the_store_checks_the_token_in_its_one_write() {
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_hold()
            .withf(|h, admission| {
                *admission == Admission::InWrite("t")
                    && h.seat_id == SeatId(7)
                    && h.concert_id == ConcertId(1)
                    && h.max_holds_per_user == 4
                    && h.sale.max_tickets_per_user == 3
            })
            .times(1)
            .returning(|h, _| Ok(held(h)));
        // No seat read and no queue read: the store's write is the only round trip.
        let uc = use_case(
            concerts(false),
            seats(None),
            queue(Queue::Shared),
            reservations,
        );
        assert_eq!(hold(&uc).await.unwrap().status, ReservationStatus::Held);
    }

    #[tokio::test]
    async fn with_the_queue_elsewhere_the_token_is_checked_first() {
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_hold()
            .withf(|_, admission| *admission == Admission::Checked)
            .times(1)
            .returning(|h, _| Ok(held(h)));
        let uc = use_case(
            concerts(false),
            seats(None),
            queue(Queue::Apart(QueueStatus::Active)),
            reservations,
        );
        assert!(hold(&uc).await.is_ok());
    }

    #[tokio::test]
    async fn refusals_before_the_store_name_an_unknown_seat_first() {
        // No expectation on hold(): reaching the store would panic the mock.
        let waiting = || queue(Queue::Apart(QueueStatus::Waiting));
        let uc = use_case(
            concerts(false),
            seats(Some(3)),
            waiting(),
            MockReservationStore::new(),
        );
        assert_eq!(hold(&uc).await, Err(DomainError::QueueTokenNotActive));
        let uc = use_case(
            concerts(false),
            seats(Some(4)),
            waiting(),
            MockReservationStore::new(),
        );
        assert!(
            matches!(hold(&uc).await, Err(DomainError::NotFound(_))),
            "a seat of another schedule, with a waiting token"
        );
        // A closed schedule: the seat, then the token, then SCHEDULE_CLOSED.
        let uc = use_case(
            concerts(true),
            seats(Some(4)),
            waiting(),
            MockReservationStore::new(),
        );
        assert!(matches!(hold(&uc).await, Err(DomainError::NotFound(_))));
        let uc = use_case(
            concerts(true),
            seats(Some(3)),
            waiting(),
            MockReservationStore::new(),
        );
        assert_eq!(hold(&uc).await, Err(DomainError::QueueTokenNotActive));
        let active = queue(Queue::Apart(QueueStatus::Active));
        let uc = use_case(
            concerts(true),
            seats(Some(3)),
            active,
            MockReservationStore::new(),
        );
        assert_eq!(hold(&uc).await, Err(DomainError::ScheduleClosed));
    }

    #[tokio::test]
    async fn a_write_overtaken_by_the_same_users_other_write_is_retried_afresh() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut reservations = MockReservationStore::new();
        let counted = calls.clone();
        reservations.expect_hold().returning(move |h, _| {
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(StoreError::Conflict.into())
            } else {
                Ok(held(h))
            }
        });
        let uc = use_case(
            concerts(false),
            seats(None),
            queue(Queue::Shared),
            reservations,
        );
        assert!(hold(&uc).await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn retries_are_bounded_and_a_lost_seat_is_not_retried() {
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_hold()
            .times(3)
            .returning(|_, _| Err(StoreError::Conflict.into()));
        let uc = use_case(
            concerts(false),
            seats(None),
            queue(Queue::Shared),
            reservations,
        );
        assert_eq!(hold(&uc).await, Err(StoreError::Conflict.into()));
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_hold()
            .times(1)
            .returning(|_, _| Err(DomainError::SeatUnavailable { seat_number: 7 }));
        let uc = use_case(
            concerts(false),
            seats(None),
            queue(Queue::Shared),
            reservations,
        );
        assert_eq!(
            hold(&uc).await,
            Err(DomainError::SeatUnavailable { seat_number: 7 })
        );
    }
}
