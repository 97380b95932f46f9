use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::concert::{CreatedConcert, NewConcert, SaleTerms};
use domain::ports::{Clock, ConcertRepository};

use crate::{AdminKey, AppError};

/// Admin: adds a concert with its schedules and their seats.
pub struct CreateConcert {
    pub concerts: Arc<dyn ConcertRepository>,
    /// Refuses every caller until a key is configured.
    pub admin: AdminKey,
    pub clock: Arc<dyn Clock>,
    /// `maxTicketsPerUser` when the request leaves it out.
    pub default_max_tickets_per_user: u32,
}

/// What an admin asks for: the catalogue fields, then the optional sale terms.
#[derive(Debug, Clone)]
pub struct ConcertRequest<'a> {
    pub title: &'a str,
    pub venue: &'a str,
    /// (startsAt, seatCount, price) per schedule.
    pub schedules: &'a [(DateTime<Utc>, i64, i64)],
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub max_tickets_per_user: Option<i64>,
}

impl CreateConcert {
    #[tracing::instrument(skip(self, admin_key, request), fields(title = request.title))]
    pub async fn execute(
        &self,
        admin_key: Option<&str>,
        request: ConcertRequest<'_>,
    ) -> Result<CreatedConcert, AppError> {
        self.admin.check(admin_key)?;
        let sale = SaleTerms::parse(
            request.sale_opens_at,
            request.max_tickets_per_user,
            self.default_max_tickets_per_user,
            self.clock.now(),
        )?;
        let concert = NewConcert::parse(request.title, request.venue, request.schedules, sale)?;
        concert.ensure_upcoming(self.clock.now())?;
        Ok(self.concerts.create(&concert).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository};
    use domain::ConcertId;
    use domain::DomainError;

    fn use_case(key: Option<&str>, concerts: MockConcertRepository) -> CreateConcert {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        CreateConcert {
            concerts: Arc::new(concerts),
            admin: AdminKey(key.map(str::to_owned)),
            clock: Arc::new(clock),
            default_max_tickets_per_user: 4,
        }
    }

    fn request(schedules: &[(DateTime<Utc>, i64, i64)]) -> ConcertRequest<'_> {
        ConcertRequest {
            title: "t",
            venue: "v",
            schedules,
            sale_opens_at: None,
            max_tickets_per_user: None,
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
                .execute(given, request(&schedules))
                .await
                .unwrap_err();
            assert_eq!(err, AppError::AdminKeyInvalid);
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
                    sale_opens_at: c.sale.sale_opens_at,
                    max_tickets_per_user: c.sale.max_tickets_per_user,
                },
                schedules: vec![],
            })
        });
        let created = use_case(Some("k"), concerts)
            .execute(
                Some("k"),
                request(&[(Utc::now() + chrono::Duration::days(1), 10, 1000)]),
            )
            .await
            .unwrap();
        assert_eq!(created.concert.title, "t");
        assert_eq!(
            created.concert.max_tickets_per_user, 4,
            "the configured default"
        );
    }

    #[tokio::test]
    async fn refuses_an_out_of_range_ticket_limit() {
        let schedules = [(Utc::now(), 10, 1000)];
        let err = use_case(Some("k"), MockConcertRepository::new())
            .execute(
                Some("k"),
                ConcertRequest {
                    max_tickets_per_user: Some(51),
                    ..request(&schedules)
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Domain(DomainError::Validation(_))));
    }

    #[tokio::test]
    async fn a_start_in_the_past_or_absurdly_far_is_refused() {
        let schedules = |starts_at| [(starts_at, 10, 1000)];
        for starts_at in [
            Utc::now() - chrono::Duration::hours(1),
            Utc::now() + chrono::Duration::days(365 * 11),
        ] {
            let err = use_case(Some("k"), MockConcertRepository::new())
                .execute(Some("k"), request(&schedules(starts_at)))
                .await
                .unwrap_err();
            assert!(matches!(err, AppError::Domain(DomainError::Validation(_))));
        }
    }
}
