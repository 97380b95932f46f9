use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::concert::{Concert, CreatedConcert, NewConcert, Schedule, ScheduleAvailability};
use crate::{ConcertId, DomainError, Page, PageRequest, ScheduleId};

/// The catalogue: concerts, schedules and the seats they are created with.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ConcertRepository: Send + Sync {
    /// Creates the concert, its schedules and every seat in one transaction.
    async fn create(&self, concert: &NewConcert) -> Result<CreatedConcert, DomainError>;
    /// The catalogue by id ascending, one page at a time.
    async fn list(&self, page: PageRequest) -> Result<Page<Concert>, DomainError>;
    /// Whether the concert exists.
    async fn exists(&self, id: ConcertId) -> Result<bool, DomainError>;
    /// One concert with its sale terms (these never change once created).
    async fn find(&self, id: ConcertId) -> Result<Option<Concert>, DomainError>;
    /// Whether the catalogue has no concert at all.
    async fn is_empty(&self) -> Result<bool, DomainError>;
    /// Schedules starting after `now`, earliest first, with their free seats at `now`.
    async fn upcoming_schedules(
        &self,
        id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ScheduleAvailability>, DomainError>;
    /// The schedule, if it exists.
    async fn find_schedule(&self, id: ScheduleId) -> Result<Option<Schedule>, DomainError>;
}
