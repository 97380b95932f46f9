use std::sync::Arc;

use domain::concert::Concert;
use domain::ports::ConcertRepository;
use domain::{DomainError, Page, PageRequest};

/// The public catalogue.
pub struct ListConcerts {
    pub concerts: Arc<dyn ConcertRepository>,
}

impl ListConcerts {
    pub async fn execute(&self, page: PageRequest) -> Result<Page<Concert>, DomainError> {
        self.concerts.list(page).await
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
        concerts
            .expect_list()
            .withf(|page| page.limit() == 2 && page.after() == Some(1))
            .returning(|_| {
                Ok(Page {
                    items: vec![Concert {
                        id: ConcertId(2),
                        title: "t".into(),
                        venue: "v".into(),
                        sale_opens_at: chrono::Utc::now(),
                        max_tickets_per_user: 4,
                    }],
                    next_after: None,
                })
            });
        let uc = ListConcerts {
            concerts: Arc::new(concerts),
        };
        let page = PageRequest::new(Some(2), Some(1)).unwrap();
        assert_eq!(uc.execute(page).await.unwrap().items.len(), 1);
    }
}
