use std::sync::Arc;

use domain::ports::{Clock, QueueStore};
use domain::queue::QueuePolicy;
use domain::DomainError;

/// The background admitter's tick: for every concert with a line, expire
/// lapsed ACTIVE tokens and admit the next in line. Runs in every instance;
/// the store keeps concurrent ticks from over-admitting.
pub struct AdmitQueues {
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
}

impl AdmitQueues {
    pub async fn tick(&self) -> Result<u64, DomainError> {
        let mut admitted = 0;
        for concert_id in self.queue.busy_concerts().await? {
            admitted += self
                .queue
                .admit(concert_id, self.policy, self.clock.now())
                .await?;
        }
        Ok(admitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockQueueStore};
    use domain::ConcertId;

    #[tokio::test]
    async fn admits_every_busy_concert() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_busy_concerts()
            .returning(|| Ok(vec![ConcertId(1), ConcertId(2)]));
        queue
            .expect_admit()
            .times(2)
            .returning(|c, _, _| Ok(c.0 as u64));
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let uc = AdmitQueues {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 1,
                active_ttl: chrono::Duration::seconds(1),
            },
        };
        assert_eq!(uc.tick().await, Ok(3));
    }
}
