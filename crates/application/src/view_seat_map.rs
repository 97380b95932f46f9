use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, SeatRepository};
use domain::seat::{Seat, SeatStatus};
use domain::{ConcertId, DomainError, ScheduleId, UserId};

use crate::QueueGuard;

/// A schedule's seats with their status at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatMap {
    pub schedule_id: ScheduleId,
    pub seats: Vec<(Seat, SeatStatus)>,
}

/// The seat map, for users the queue has admitted.
pub struct ViewSeatMap {
    pub concerts: Arc<dyn ConcertRepository>,
    pub seats: Arc<dyn SeatRepository>,
    pub guard: Arc<QueueGuard>,
    pub clock: Arc<dyn Clock>,
}

impl ViewSeatMap {
    pub async fn execute(
        &self,
        user_id: UserId,
        queue_token: Option<&str>,
        concert_id: ConcertId,
        schedule_id: ScheduleId,
    ) -> Result<SeatMap, DomainError> {
        let schedule = self.concerts.find_schedule(schedule_id).await?;
        if schedule.is_none_or(|s| s.concert_id != concert_id) {
            return Err(DomainError::not_found(format!(
                "schedule {schedule_id} of concert {concert_id}"
            )));
        }
        self.guard.check(user_id, queue_token, concert_id).await?;
        let now = self.clock.now();
        let seats = self.seats.seats_of(schedule_id).await?;
        Ok(SeatMap {
            schedule_id,
            seats: seats
                .into_iter()
                .map(|seat| {
                    let status = seat.status_at(now);
                    (seat, status)
                })
                .collect(),
        })
    }
}
