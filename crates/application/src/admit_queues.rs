use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, QueueStore, RandomSource};
use domain::queue::{QueueLine, QueuePolicy};
use domain::DomainError;

/// What one admitter tick did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdmissionReport {
    pub admitted: u64,
    /// PREQUEUE tokens whose place was drawn at an opening this tick.
    pub drawn: u64,
    /// The lines as found at the start of the tick.
    pub lines: Vec<QueueLine>,
}

/// The background admitter's tick: for every concert with a line, open the
/// sale if its time has come (draw the pre-queue's order), expire lapsed
/// ACTIVE tokens and admit the next in line. Runs in every instance; the
/// store keeps concurrent ticks from over-admitting or opening twice.
pub struct AdmitQueues {
    pub concerts: Arc<dyn ConcertRepository>,
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
    /// The draw's randomness: the OS's CSPRNG in production.
    pub rng: Arc<dyn RandomSource>,
}

impl AdmitQueues {
    pub async fn tick(&self) -> Result<AdmissionReport, DomainError> {
        let lines = self.queue.waiting_lines().await?;
        let (mut admitted, mut drawn) = (0, 0);
        for line in &lines {
            let now = self.clock.now();
            if line.prequeued > 0 {
                let opens = self.concerts.find(line.concert_id).await?;
                if opens.is_some_and(|c| c.sale().is_open(now)) {
                    drawn += self
                        .queue
                        .open_sale(line.concert_id, now, self.rng.clone())
                        .await?;
                }
            }
            admitted += self.queue.admit(line.concert_id, self.policy, now).await?;
        }
        Ok(AdmissionReport {
            admitted,
            drawn,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore, MockRandomSource};
    use domain::ConcertId;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    fn line(id: i64, waiting: u64, prequeued: u64) -> QueueLine {
        QueueLine {
            concert_id: ConcertId(id),
            waiting,
            prequeued,
        }
    }

    fn use_case(queue: MockQueueStore) -> AdmitQueues {
        // Concert 3 opens in the future; every other has opened.
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find().returning(|id| {
            Ok(Some(Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: now() + Duration::seconds(if id == ConcertId(3) { 60 } else { 0 }),
                max_tickets_per_user: 4,
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        AdmitQueues {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 1,
                active_ttl: chrono::Duration::seconds(1),
            },
            rng: Arc::new(MockRandomSource::new()),
        }
    }

    #[tokio::test]
    async fn admits_every_busy_concert() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_waiting_lines()
            .returning(|| Ok(vec![line(1, 4, 0), line(2, 9, 0)]));
        queue
            .expect_admit()
            .times(2)
            .returning(|c, _, _| Ok(c.0 as u64));
        let report = use_case(queue).tick().await.unwrap();
        assert_eq!(report.admitted, 3);
        assert_eq!(report.lines.len(), 2);
    }

    #[tokio::test]
    async fn opens_only_sales_whose_time_has_come_then_admits() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_waiting_lines()
            .returning(|| Ok(vec![line(2, 0, 5), line(3, 0, 7)]));
        queue
            .expect_open_sale()
            .withf(|c, _, _| *c == ConcertId(2))
            .times(1)
            .returning(|_, _, _| Ok(5));
        queue.expect_admit().times(2).returning(|_, _, _| Ok(0));
        let report = use_case(queue).tick().await.unwrap();
        assert_eq!(report.drawn, 5);
    }
}
