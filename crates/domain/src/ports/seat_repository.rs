use std::sync::Arc;

use async_trait::async_trait;

use crate::seat::Seat;
use crate::{DomainError, ScheduleId, SeatId};

/// Seats as stored, for reading; changes go through the reservation and payment stores.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SeatRepository: Send + Sync {
    /// Every seat of the schedule by seat number; shared, as a cache may
    /// hand the same rows to every reader.
    async fn seats_of(&self, schedule_id: ScheduleId) -> Result<Arc<[Seat]>, DomainError>;
    /// The seat, if it exists.
    async fn find(&self, seat_id: SeatId) -> Result<Option<Seat>, DomainError>;
}
