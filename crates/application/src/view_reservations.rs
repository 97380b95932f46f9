use std::sync::Arc;

use domain::ports::{Clock, ReservationStore};
use domain::reservation::Reservation;
use domain::{DomainError, Page, PageRequest, ReservationId, UserId};

/// The caller's own reservations, with their status as of now.
pub struct ViewReservations {
    pub reservations: Arc<dyn ReservationStore>,
    pub clock: Arc<dyn Clock>,
}

impl ViewReservations {
    pub async fn list(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<Reservation>, DomainError> {
        let now = self.clock.now();
        let mut list = self.reservations.list_of(user_id, page).await?;
        list.items
            .iter_mut()
            .for_each(|r| r.status = r.status_at(now));
        Ok(list)
    }

    /// Someone else's reservation is reported as missing, not as forbidden.
    pub async fn get(
        &self,
        user_id: UserId,
        id: ReservationId,
    ) -> Result<Reservation, DomainError> {
        let mut reservation = owned(self.reservations.find(id).await?, user_id, id)?;
        reservation.status = reservation.status_at(self.clock.now());
        Ok(reservation)
    }
}

/// The reservation if it exists and belongs to `user_id`, else NOT_FOUND.
pub(crate) fn owned(
    found: Option<Reservation>,
    user_id: UserId,
    id: ReservationId,
) -> Result<Reservation, DomainError> {
    found
        .filter(|r| r.user_id == user_id)
        .ok_or_else(|| DomainError::not_found(format!("reservation {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::ports::{MockClock, MockReservationStore};
    use domain::reservation::ReservationStatus;
    use domain::{ConcertId, ScheduleId, SeatId, Won};

    #[tokio::test]
    async fn lapsed_holds_read_expired_and_others_are_not_found() {
        let now = Utc::now();
        let lapsed = Reservation {
            id: ReservationId(1),
            user_id: UserId(1),
            concert_id: ConcertId(1),
            schedule_id: ScheduleId(1),
            seat_id: SeatId(1),
            seat_number: 1,
            seat_version: 1,
            price: Won::new(1).unwrap(),
            status: ReservationStatus::Held,
            expires_at: now - Duration::seconds(1),
            created_at: now - Duration::seconds(301),
            offer: false,
        };
        let mut store = MockReservationStore::new();
        let found = lapsed.clone();
        store
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        store.expect_list_of().returning(move |_, _| {
            Ok(Page {
                items: vec![lapsed.clone()],
                next_after: None,
            })
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        let uc = ViewReservations {
            reservations: Arc::new(store),
            clock: Arc::new(clock),
        };
        assert_eq!(
            uc.get(UserId(1), ReservationId(1)).await.unwrap().status,
            ReservationStatus::Expired
        );
        assert_eq!(
            uc.list(UserId(1), PageRequest::first())
                .await
                .unwrap()
                .items[0]
                .status,
            ReservationStatus::Expired
        );
        assert!(matches!(
            uc.get(UserId(2), ReservationId(1)).await,
            Err(DomainError::NotFound(_))
        ));
    }
}
