use std::sync::Arc;

use domain::concert::ScheduleAvailability;
use domain::ports::{Clock, ConcertRepository};
use domain::{ConcertId, DomainError};

/// A concert's upcoming schedules with their free seats.
pub struct ListSchedules {
    pub concerts: Arc<dyn ConcertRepository>,
    pub clock: Arc<dyn Clock>,
}

impl ListSchedules {
    pub async fn execute(
        &self,
        concert_id: ConcertId,
    ) -> Result<Vec<ScheduleAvailability>, DomainError> {
        if !self.concerts.exists(concert_id).await? {
            return Err(DomainError::not_found(format!("concert {concert_id}")));
        }
        self.concerts
            .upcoming_schedules(concert_id, self.clock.now())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockConcertRepository};

    #[tokio::test]
    async fn unknown_concert_is_not_found() {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_exists().returning(|_| Ok(false));
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let uc = ListSchedules {
            concerts: Arc::new(concerts),
            clock: Arc::new(clock),
        };
        assert!(matches!(
            uc.execute(ConcertId(9)).await,
            Err(DomainError::NotFound(_))
        ));
    }
}
