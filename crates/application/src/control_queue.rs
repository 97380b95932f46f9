use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, QueueStore};
use domain::queue::{QueueControlsPatch, QueueOverview, QueuePolicy};
use domain::{ConcertId, DomainError};

use crate::{AdminKey, AppError};

/// A concert's line as an admin sees it, with the cap in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSummary {
    pub concert_id: ConcertId,
    pub paused: bool,
    /// The concert's own cap, else the configured one.
    pub max_active: u32,
    pub prequeued: u64,
    pub waiting: u64,
    pub active: u64,
}

impl QueueSummary {
    pub fn new(concert_id: ConcertId, overview: QueueOverview, policy: &QueuePolicy) -> Self {
        Self {
            concert_id,
            paused: overview.controls.paused,
            max_active: overview.controls.max_active(policy),
            prequeued: overview.counts.prequeued,
            waiting: overview.counts.waiting,
            active: overview.counts.active,
        }
    }
}

/// Admin: pause or resume a concert's admission, or change its cap. Stored in
/// the queue's store, so every instance's issuers and admitters obey it.
pub struct ControlQueue {
    pub concerts: Arc<dyn ConcertRepository>,
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
    pub admin: AdminKey,
}

impl ControlQueue {
    #[tracing::instrument(skip(self, admin_key))]
    pub async fn execute(
        &self,
        admin_key: Option<&str>,
        concert_id: ConcertId,
        paused: Option<bool>,
        max_active: Option<i64>,
    ) -> Result<QueueSummary, AppError> {
        self.admin.check(admin_key)?;
        if !self.concerts.exists(concert_id).await? {
            return Err(DomainError::not_found(format!("concert {concert_id}")).into());
        }
        let patch = QueueControlsPatch::parse(paused, max_active)?;
        let overview = self
            .queue
            .control(concert_id, patch, self.clock.now())
            .await?;
        Ok(QueueSummary::new(concert_id, overview, &self.policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore};
    use domain::queue::{QueueControls, QueueCounts};

    fn use_case(queue: MockQueueStore) -> ControlQueue {
        let mut concerts = MockConcertRepository::new();
        concerts
            .expect_exists()
            .returning(|id| Ok(id == ConcertId(1)));
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        ControlQueue {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 100,
                active_ttl: chrono::Duration::seconds(60),
            },
            admin: AdminKey(Some("k".into())),
        }
    }

    #[tokio::test]
    async fn stores_the_patch_and_reports_the_cap_in_force() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_control()
            .withf(|c, p, _| *c == ConcertId(1) && p.paused == Some(true) && p.max_active.is_none())
            .returning(|_, p, _| {
                Ok(QueueOverview {
                    controls: QueueControls::default().patched(p),
                    counts: QueueCounts {
                        prequeued: 0,
                        waiting: 5,
                        active: 2,
                    },
                })
            });
        let summary = use_case(queue)
            .execute(Some("k"), ConcertId(1), Some(true), None)
            .await
            .unwrap();
        assert!(summary.paused);
        assert_eq!(
            (summary.max_active, summary.waiting, summary.active),
            (100, 5, 2)
        );
    }

    #[tokio::test]
    async fn refusals_reach_no_store() {
        let uc = use_case(MockQueueStore::new());
        assert_eq!(
            uc.execute(Some("x"), ConcertId(1), Some(true), None).await,
            Err(AppError::AdminKeyInvalid)
        );
        assert!(matches!(
            uc.execute(Some("k"), ConcertId(2), Some(true), None).await,
            Err(AppError::Domain(DomainError::NotFound(_)))
        ));
        assert!(matches!(
            uc.execute(Some("k"), ConcertId(1), None, Some(0)).await,
            Err(AppError::Domain(DomainError::Validation(_)))
        ));
    }
}
