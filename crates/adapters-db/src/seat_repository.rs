use std::sync::Arc;

use async_trait::async_trait;
use domain::ports::SeatRepository;
use domain::seat::Seat;
use domain::{DomainError, ScheduleId, SeatId, StoreError, Won};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::seat;
use crate::error::db_err;
use crate::seat_map_cache::Lookup;
use crate::time::from_ms;
use crate::SeatMapCache;

/// Seats for reading; whole seat maps go through the [`SeatMapCache`].
pub struct DbSeatRepository {
    pub db: DatabaseConnection,
    pub seat_maps: Arc<SeatMapCache>,
}

impl TryFrom<seat::Model> for Seat {
    type Error = StoreError;

    fn try_from(m: seat::Model) -> Result<Self, StoreError> {
        Ok(Seat {
            id: SeatId(m.id),
            schedule_id: ScheduleId(m.schedule_id),
            seat_number: m.seat_number as u32,
            price: Won::new(m.price)?,
            status: m.status.parse()?,
            hold_expires_at: m.hold_expires_at_ms.map(from_ms),
            version: m.version,
        })
    }
}

#[async_trait]
impl SeatRepository for DbSeatRepository {
    async fn seats_of(&self, schedule_id: ScheduleId) -> Result<Arc<[Seat]>, DomainError> {
        let (generation, _refilling) = match self.seat_maps.lookup(schedule_id.0).await {
            Lookup::Fresh(seats) => return Ok(seats),
            Lookup::Refill {
                generation,
                _refilling,
            } => (generation, _refilling),
        };
        let rows = seat::Entity::find()
            .filter(seat::Column::ScheduleId.eq(schedule_id.0))
            .order_by_asc(seat::Column::SeatNumber)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let seats: Arc<[Seat]> = rows
            .into_iter()
            .map(Seat::try_from)
            .collect::<Result<_, _>>()?;
        self.seat_maps.put(schedule_id.0, generation, seats.clone());
        Ok(seats)
    }

    async fn find(&self, seat_id: SeatId) -> Result<Option<Seat>, DomainError> {
        let row = seat::Entity::find_by_id(seat_id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(row.map(Seat::try_from).transpose()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::seat::SeatStatus;

    fn row(status: &str, price: i64) -> seat::Model {
        seat::Model {
            id: 1,
            schedule_id: 2,
            seat_number: 3,
            price,
            status: status.into(),
            hold_expires_at_ms: None,
            version: 0,
        }
    }

    #[test]
    fn a_row_the_build_cannot_read_is_an_internal_error_not_a_guess() {
        assert_eq!(
            Seat::try_from(row("SOLD", 10)).map(|s| s.status),
            Ok(SeatStatus::Sold)
        );
        assert!(matches!(
            Seat::try_from(row("RESERVED", 10)),
            Err(StoreError::Internal(_))
        ));
        assert!(matches!(
            Seat::try_from(row("AVAILABLE", -1)),
            Err(StoreError::Internal(_))
        ));
    }
}
