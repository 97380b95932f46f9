use std::sync::Arc;

use domain::ports::{Clock, QueueStore};
use domain::queue::{QueueLine, QueuePolicy};
use domain::DomainError;

/// What one admitter tick did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdmissionReport {
    pub admitted: u64,
    /// The lines as found at the start of the tick.
    pub lines: Vec<QueueLine>,
}

/// The background admitter's tick: for every concert with a line, expire
/// lapsed ACTIVE tokens and admit the next in line. Runs in every instance;
/// the store keeps concurrent ticks from over-admitting.
pub struct AdmitQueues {
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
}

impl AdmitQueues {
    pub async fn tick(&self) -> Result<AdmissionReport, DomainError> {
        let lines = self.queue.waiting_lines().await?;
        let mut admitted = 0;
        for line in &lines {
            admitted += self
                .queue
                .admit(line.concert_id, self.policy, self.clock.now())
                .await?;
        }
        Ok(AdmissionReport { admitted, lines })
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
        queue.expect_waiting_lines().returning(|| {
            Ok(vec![
                QueueLine {
                    concert_id: ConcertId(1),
                    waiting: 4,
                },
                QueueLine {
                    concert_id: ConcertId(2),
                    waiting: 9,
                },
            ])
        });
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
        let report = uc.tick().await.unwrap();
        assert_eq!(report.admitted, 3);
        assert_eq!(report.lines.len(), 2);
    }
}
