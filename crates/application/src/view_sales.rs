use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ports::{Clock, ConcertRepository, QueueStore, SalesReport};
use domain::queue::{QueueControlsPatch, QueuePolicy};
use domain::sales::{total_revenue, ScheduleSales};
use domain::{ConcertId, DomainError, Won};

use crate::{AdminKey, AppError, QueueSummary};

/// How a concert's sale stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesView {
    pub concert_id: ConcertId,
    pub sale_opens_at: DateTime<Utc>,
    pub queue: QueueSummary,
    pub schedules: Vec<ScheduleSales>,
    /// The schedules' revenue, summed.
    pub revenue: Won,
}

/// Admin: the sale at a glance. Seats and takings come from one snapshot of
/// the database; the line from the queue's store.
pub struct ViewSales {
    pub concerts: Arc<dyn ConcertRepository>,
    pub queue: Arc<dyn QueueStore>,
    pub sales: Arc<dyn SalesReport>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
    pub admin: AdminKey,
}

impl ViewSales {
    #[tracing::instrument(skip(self, admin_key))]
    pub async fn execute(
        &self,
        admin_key: Option<&str>,
        concert_id: ConcertId,
    ) -> Result<SalesView, AppError> {
        self.admin.check(admin_key)?;
        let concert = self
            .concerts
            .find(concert_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("concert {concert_id}")))?;
        let now = self.clock.now();
        let schedules = self.sales.schedule_sales(concert_id, now).await?;
        // An empty patch changes nothing: the store only reads.
        let overview = self
            .queue
            .control(concert_id, QueueControlsPatch::default(), now)
            .await?;
        Ok(SalesView {
            concert_id,
            sale_opens_at: concert.sale_opens_at,
            queue: QueueSummary::new(concert_id, overview, &self.policy),
            revenue: total_revenue(&schedules)?,
            schedules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore, MockSalesReport};
    use domain::queue::QueueOverview;
    use domain::ScheduleId;

    #[tokio::test]
    async fn sums_the_schedules_and_reads_the_line_without_changing_it() {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find().returning(|id| {
            Ok(Some(Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
                max_tickets_per_user: 4,
            }))
        });
        let mut sales = MockSalesReport::new();
        sales.expect_schedule_sales().returning(|_, _| {
            Ok([(1, 3000), (2, 500)]
                .map(|(id, revenue)| ScheduleSales {
                    schedule_id: ScheduleId(id),
                    total_seats: 10,
                    held: 1,
                    sold: 2,
                    revenue: Won::new(revenue).unwrap(),
                })
                .to_vec())
        });
        let mut queue = MockQueueStore::new();
        queue
            .expect_control()
            .withf(|_, p, _| *p == QueueControlsPatch::default())
            .returning(|_, _, _| Ok(QueueOverview::default()));
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let uc = ViewSales {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            sales: Arc::new(sales),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 7,
                active_ttl: chrono::Duration::seconds(60),
            },
            admin: AdminKey(Some("k".into())),
        };
        let view = uc.execute(Some("k"), ConcertId(1)).await.unwrap();
        assert_eq!(view.revenue, Won::new(3500).unwrap());
        assert_eq!(view.queue.max_active, 7);
        assert_eq!(view.schedules.len(), 2);
        assert_eq!(
            uc.execute(None, ConcertId(1)).await,
            Err(AppError::AdminKeyInvalid)
        );
    }
}
