use std::sync::Arc;

use domain::concert::Concert;
use domain::ports::ConcertRepository;
use domain::DomainError;

/// The public catalogue.
pub struct ListConcerts {
    pub concerts: Arc<dyn ConcertRepository>,
}

impl ListConcerts {
    pub async fn execute(&self) -> Result<Vec<Concert>, DomainError> {
        self.concerts.list().await
    }
}
