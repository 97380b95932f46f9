use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::sales::ScheduleSales;
use crate::{ConcertId, DomainError};

/// Counts of a concert's seats and takings, exact at one moment.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SalesReport: Send + Sync {
    /// Every schedule of the concert, earliest first, read in one snapshot:
    /// holds are live at `now`, revenue is the paid, unrefunded reservations.
    async fn schedule_sales(
        &self,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ScheduleSales>, DomainError>;
}
