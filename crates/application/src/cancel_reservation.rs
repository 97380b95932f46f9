use std::sync::Arc;

use domain::ports::{Clock, ReservationStore};
use domain::reservation::Reservation;
use domain::{DomainError, ReservationId, UserId};

use crate::view_reservations::owned;

/// Gives a held seat back at once.
pub struct CancelReservation {
    pub reservations: Arc<dyn ReservationStore>,
    pub clock: Arc<dyn Clock>,
}

impl CancelReservation {
    #[tracing::instrument(skip(self))]
    pub async fn execute(
        &self,
        user_id: UserId,
        id: ReservationId,
    ) -> Result<Reservation, DomainError> {
        owned(self.reservations.find(id).await?, user_id, id)?;
        // Whether it can still be cancelled is decided once, by the store
        // under its transaction (with `Reservation::ensure_cancellable`): a
        // check here would read a state that may change before the write.
        self.reservations.cancel(id, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::ports::{MockClock, MockReservationStore};
    use domain::reservation::ReservationStatus;
    use domain::{ConcertId, ScheduleId, SeatId, Won};

    fn reservation(owner: i64, status: ReservationStatus, expires_in: i64) -> Reservation {
        Reservation {
            id: ReservationId(1),
            user_id: UserId(owner),
            concert_id: ConcertId(1),
            schedule_id: ScheduleId(1),
            seat_id: SeatId(1),
            seat_number: 1,
            seat_version: 1,
            price: Won::new(100).unwrap(),
            status,
            expires_at: Utc::now() + Duration::seconds(expires_in),
            created_at: Utc::now(),
            offer: false,
        }
    }

    fn use_case(found: Reservation, cancels: usize) -> CancelReservation {
        let mut store = MockReservationStore::new();
        let stored = found.clone();
        store
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        // The store decides with the domain's rule, as the database adapter does.
        store
            .expect_cancel()
            .times(cancels)
            .returning(move |_, now| {
                stored.ensure_cancellable(now)?;
                Ok(Reservation {
                    status: ReservationStatus::Cancelled,
                    ..stored.clone()
                })
            });
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        CancelReservation {
            reservations: Arc::new(store),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn cancels_own_live_hold() {
        let uc = use_case(reservation(1, ReservationStatus::Held, 60), 1);
        let r = uc.execute(UserId(1), ReservationId(1)).await.unwrap();
        assert_eq!(r.status, ReservationStatus::Cancelled);
    }

    #[tokio::test]
    async fn someone_elses_is_not_found() {
        let uc = use_case(reservation(2, ReservationStatus::Held, 60), 0);
        assert!(matches!(
            uc.execute(UserId(1), ReservationId(1)).await,
            Err(DomainError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn expired_or_confirmed_is_not_cancellable() {
        for (status, expires_in) in [
            (ReservationStatus::Held, -1),
            (ReservationStatus::Confirmed, 60),
        ] {
            let uc = use_case(reservation(1, status, expires_in), 1);
            let err = uc.execute(UserId(1), ReservationId(1)).await.unwrap_err();
            assert!(matches!(err, DomainError::ReservationNotCancellable(_)));
        }
    }
}
