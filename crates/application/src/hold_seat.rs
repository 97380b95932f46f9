use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, ReservationStore, SeatRepository};
use domain::reservation::{HoldPolicy, Reservation};
use domain::{DomainError, ScheduleId, SeatId, UserId};

use crate::QueueGuard;

/// Holds a seat for a few minutes. One optimistic attempt: losing the race
/// means someone else has the seat, and the client hears so at once. The
/// limits (holds per user, tickets per concert) are checked once, by the
/// store's conditional write under the user's lock; no count is read first.
pub struct HoldSeat {
    pub concerts: Arc<dyn ConcertRepository>,
    pub seats: Arc<dyn SeatRepository>,
    pub reservations: Arc<dyn ReservationStore>,
    pub guard: Arc<QueueGuard>,
    pub clock: Arc<dyn Clock>,
    pub policy: HoldPolicy,
}

impl HoldSeat {
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
        let seat = self
            .seats
            .find(seat_id)
            .await?
            .filter(|s| s.schedule_id == schedule_id)
            .ok_or_else(not_found)?;
        self.guard
            .check(user_id, queue_token, schedule.concert_id)
            .await?;
        let concert = self
            .concerts
            .find(schedule.concert_id)
            .await?
            .ok_or_else(not_found)?;
        let now = self.clock.now();
        let hold = self
            .policy
            .decide(user_id, concert.sale(), &schedule, &seat, now)?;
        self.reservations.hold(&hold).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::concert::{Concert, Schedule};
    use domain::ports::{
        MockClock, MockConcertRepository, MockQueueStore, MockReservationStore, MockSeatRepository,
    };
    use domain::queue::{QueueStatus, QueueTicket, QueueToken};
    use domain::reservation::ReservationStatus;
    use domain::seat::{Seat, SeatStatus};
    use domain::{ConcertId, ReservationId, Won};

    fn seat(schedule: i64, status: SeatStatus) -> Seat {
        Seat {
            id: SeatId(7),
            schedule_id: ScheduleId(schedule),
            seat_number: 7,
            price: Won::new(1000).unwrap(),
            status,
            hold_expires_at: None,
            version: 2,
        }
    }

    fn use_case(
        seat: Seat,
        queue_status: QueueStatus,
        reservations: MockReservationStore,
    ) -> HoldSeat {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(|id| {
            Ok((id == ScheduleId(3)).then(|| Schedule {
                id,
                concert_id: ConcertId(1),
                starts_at: Utc::now() + Duration::hours(1),
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
        let mut seats = MockSeatRepository::new();
        seats
            .expect_find()
            .returning(move |_| Ok(Some(seat.clone())));
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(move |token, _| {
            Ok(Some(QueueTicket {
                token: QueueToken(token.into()),
                user_id: UserId(1),
                concert_id: ConcertId(1),
                status: queue_status,
                position: 0,
                expires_at: None,
                admission_rate: None,
            }))
        });
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
        }
    }

    #[tokio::test]
    async fn holds_with_the_version_it_read() {
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_hold()
            .withf(|h| {
                h.seat_version == 2
                    && h.concert_id == ConcertId(1)
                    && h.max_holds_per_user == 4
                    && h.sale.max_tickets_per_user == 3
            })
            .returning(|h| {
                Ok(Reservation {
                    id: ReservationId(1),
                    user_id: h.user_id,
                    concert_id: h.concert_id,
                    schedule_id: h.schedule_id,
                    seat_id: h.seat_id,
                    seat_number: h.seat_number,
                    seat_version: h.seat_version + 1,
                    price: h.price,
                    status: ReservationStatus::Held,
                    expires_at: h.expires_at,
                    created_at: h.now,
                    offer: false,
                })
            });
        let uc = use_case(
            seat(3, SeatStatus::Available),
            QueueStatus::Active,
            reservations,
        );
        let held = uc
            .execute(UserId(1), Some("t"), ScheduleId(3), SeatId(7))
            .await
            .unwrap();
        assert_eq!(held.status, ReservationStatus::Held);
    }

    #[tokio::test]
    async fn refusals_never_reach_the_store() {
        // No expectation on hold(): reaching the store would panic the mock.
        let uc = use_case(
            seat(4, SeatStatus::Available),
            QueueStatus::Active,
            MockReservationStore::new(),
        );
        let err = uc
            .execute(UserId(1), Some("t"), ScheduleId(3), SeatId(7))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::NotFound(_)),
            "seat of another schedule"
        );
        let uc = use_case(
            seat(3, SeatStatus::Available),
            QueueStatus::Waiting,
            MockReservationStore::new(),
        );
        let err = uc
            .execute(UserId(1), Some("t"), ScheduleId(3), SeatId(7))
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::QueueTokenNotActive);
        let uc = use_case(
            seat(3, SeatStatus::Sold),
            QueueStatus::Active,
            MockReservationStore::new(),
        );
        let err = uc
            .execute(UserId(1), Some("t"), ScheduleId(3), SeatId(7))
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::SeatUnavailable { seat_number: 7 });
    }
}
