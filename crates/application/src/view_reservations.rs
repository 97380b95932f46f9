use std::sync::Arc;

use domain::ports::{Clock, ReservationStore};
use domain::reservation::Reservation;
use domain::{DomainError, ReservationId, UserId};

/// The caller's own reservations, with their status as of now.
pub struct ViewReservations {
    pub reservations: Arc<dyn ReservationStore>,
    pub clock: Arc<dyn Clock>,
}

impl ViewReservations {
    pub async fn list(&self, user_id: UserId) -> Result<Vec<Reservation>, DomainError> {
        let now = self.clock.now();
        let mut list = self.reservations.list_of(user_id).await?;
        list.iter_mut().for_each(|r| r.status = r.status_at(now));
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
