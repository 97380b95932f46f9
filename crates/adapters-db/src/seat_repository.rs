use std::sync::Arc;

use async_trait::async_trait;
use domain::ports::SeatRepository;
use domain::seat::{Seat, SeatStatus};
use domain::{DomainError, ScheduleId, SeatId, Won};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::seat;
use crate::error::db_err;
use crate::time::from_ms;
use crate::SeatMapCache;

/// Seats for reading; whole seat maps go through the [`SeatMapCache`].
pub struct DbSeatRepository {
    pub db: DatabaseConnection,
    pub seat_maps: Arc<SeatMapCache>,
}

pub(crate) fn seat_status(stored: &str) -> SeatStatus {
    match stored {
        "HELD" => SeatStatus::Held,
        "SOLD" => SeatStatus::Sold,
        _ => SeatStatus::Available,
    }
}

impl From<seat::Model> for Seat {
    fn from(m: seat::Model) -> Self {
        Seat {
            id: SeatId(m.id),
            schedule_id: ScheduleId(m.schedule_id),
            seat_number: m.seat_number as u32,
            price: Won(m.price),
            status: seat_status(&m.status),
            hold_expires_at: m.hold_expires_at_ms.map(from_ms),
            version: m.version,
        }
    }
}

#[async_trait]
impl SeatRepository for DbSeatRepository {
    async fn seats_of(&self, schedule_id: ScheduleId) -> Result<Arc<[Seat]>, DomainError> {
        let (cached, generation) = self.seat_maps.get(schedule_id.0);
        if let Some(seats) = cached {
            return Ok(seats);
        }
        let rows = seat::Entity::find()
            .filter(seat::Column::ScheduleId.eq(schedule_id.0))
            .order_by_asc(seat::Column::SeatNumber)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let seats: Arc<[Seat]> = rows.into_iter().map(Into::into).collect();
        self.seat_maps.put(schedule_id.0, generation, seats.clone());
        Ok(seats)
    }

    async fn find(&self, seat_id: SeatId) -> Result<Option<Seat>, DomainError> {
        seat::Entity::find_by_id(seat_id.0)
            .one(&self.db)
            .await
            .map(|m| m.map(Into::into))
            .map_err(db_err)
    }
}
