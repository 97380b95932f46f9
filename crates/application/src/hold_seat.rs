use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, ReservationStore, SeatRepository};
use domain::reservation::{HoldPolicy, Reservation};
use domain::{DomainError, ScheduleId, SeatId, UserId};

use crate::QueueGuard;

/// Holds a seat for a few minutes. One optimistic attempt: losing the race
/// means someone else has the seat, and the client hears so at once.
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
        let now = self.clock.now();
        let live_holds = self.reservations.live_holds(user_id, now).await?;
        let hold = self
            .policy
            .decide(user_id, &schedule, &seat, live_holds, now)?;
        self.reservations.hold(&hold).await
    }
}
