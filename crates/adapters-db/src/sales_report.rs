//! The organiser's sales view, exact at one moment.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::SalesReport;
use domain::sales::ScheduleSales;
use domain::{ConcertId, DomainError, ScheduleId, Won};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};

use crate::error::db_err;
use crate::time::to_ms;

/// One statement, so one snapshot on both databases: the counts of a
/// schedule can never straddle a hold or a payment. Each sub-select reads one
/// schedule's rows through an index (`ux_seats_schedule_number`,
/// `ix_reservations_confirmed_schedule`), so the cost is the concert's seats,
/// whatever the length of its queue.
const SALES: &str = "SELECT s.id AS schedule_id, CAST(s.seat_count AS BIGINT) AS total, \
    (SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id AND t.status = 'HELD' AND t.hold_expires_at_ms > $1) AS held, \
    (SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id AND t.status = 'SOLD') AS sold, \
    (SELECT CAST(COALESCE(SUM(r.price), 0) AS BIGINT) FROM reservations r WHERE r.schedule_id = s.id AND r.status = 'CONFIRMED') AS revenue \
    FROM schedules s WHERE s.concert_id = $2 ORDER BY s.starts_at_ms, s.id";

/// The sales view on the shared database.
pub struct DbSalesReport {
    pub db: DatabaseConnection,
}

#[async_trait]
impl SalesReport for DbSalesReport {
    async fn schedule_sales(
        &self,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ScheduleSales>, DomainError> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => SALES.to_owned(),
            _ => SALES.replace("$1", "?").replace("$2", "?"),
        };
        let rows = self
            .db
            .query_all(Statement::from_sql_and_values(
                backend,
                sql,
                [Value::from(to_ms(now)), Value::from(concert_id.0)],
            ))
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let get = |column: &str| row.try_get::<i64>("", column).map_err(db_err);
                let count =
                    |column: &str| get(column).map(|n| n.clamp(0, i64::from(u32::MAX)) as u32);
                Ok(ScheduleSales {
                    schedule_id: ScheduleId(get("schedule_id")?),
                    total_seats: count("total")?,
                    held: count("held")?,
                    sold: count("sold")?,
                    revenue: Won::new(get("revenue")?)?,
                })
            })
            .collect()
    }
}
