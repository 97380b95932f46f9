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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::MockConcertRepository;
    use domain::ConcertId;

    #[tokio::test]
    async fn lists_the_catalogue() {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_list().returning(|| {
            Ok(vec![Concert {
                id: ConcertId(1),
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: chrono::Utc::now(),
                max_tickets_per_user: 4,
            }])
        });
        let uc = ListConcerts {
            concerts: Arc::new(concerts),
        };
        assert_eq!(uc.execute().await.unwrap().len(), 1);
    }
}
