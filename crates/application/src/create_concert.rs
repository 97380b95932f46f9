use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::concert::{CreatedConcert, NewConcert};
use domain::ports::{Clock, ConcertRepository};
use domain::DomainError;

/// Admin: adds a concert with its schedules and their seats.
pub struct CreateConcert {
    pub concerts: Arc<dyn ConcertRepository>,
    /// `None` refuses every caller: admin endpoints are off until a key is configured.
    pub admin_key: Option<String>,
    pub clock: Arc<dyn Clock>,
}

impl CreateConcert {
    pub fn authorize(&self, presented: Option<&str>) -> Result<(), DomainError> {
        match (&self.admin_key, presented) {
            (Some(expected), Some(given))
                if constant_time_eq(expected.as_bytes(), given.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(DomainError::AdminKeyInvalid),
        }
    }

    #[tracing::instrument(skip(self, admin_key, schedules))]
    pub async fn execute(
        &self,
        admin_key: Option<&str>,
        title: &str,
        venue: &str,
        schedules: &[(DateTime<Utc>, i64, i64)],
    ) -> Result<CreatedConcert, DomainError> {
        self.authorize(admin_key)?;
        let concert = NewConcert::parse(title, venue, schedules)?;
        concert.ensure_upcoming(self.clock.now())?;
        self.concerts.create(&concert).await
    }
}

/// Compares secrets without leaking how long a prefix matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository};
    use domain::ConcertId;

    fn use_case(key: Option<&str>, concerts: MockConcertRepository) -> CreateConcert {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        CreateConcert {
            concerts: Arc::new(concerts),
            admin_key: key.map(str::to_owned),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn refuses_without_configured_or_matching_key() {
        let schedules = [(Utc::now(), 10, 1000)];
        for (configured, given) in [
            (None, Some("k")),
            (Some("k"), None),
            (Some("k"), Some("x")),
            (Some("k"), Some("kk")),
        ] {
            let err = use_case(configured, MockConcertRepository::new())
                .execute(given, "t", "v", &schedules)
                .await
                .unwrap_err();
            assert_eq!(err, DomainError::AdminKeyInvalid);
        }
    }

    #[tokio::test]
    async fn creates_with_the_right_key() {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_create().times(1).returning(|c| {
            Ok(CreatedConcert {
                concert: Concert {
                    id: ConcertId(1),
                    title: c.title.clone(),
                    venue: c.venue.clone(),
                },
                schedules: vec![],
            })
        });
        let created = use_case(Some("k"), concerts)
            .execute(
                Some("k"),
                "t",
                "v",
                &[(Utc::now() + chrono::Duration::days(1), 10, 1000)],
            )
            .await
            .unwrap();
        assert_eq!(created.concert.title, "t");
    }

    #[tokio::test]
    async fn a_start_in_the_past_or_absurdly_far_is_refused() {
        for starts_at in [
            Utc::now() - chrono::Duration::hours(1),
            Utc::now() + chrono::Duration::days(365 * 11),
        ] {
            let err = use_case(Some("k"), MockConcertRepository::new())
                .execute(Some("k"), "t", "v", &[(starts_at, 10, 1000)])
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::Validation(_)));
        }
    }
}
