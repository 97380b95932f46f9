use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::concert::JoinPhase;
use domain::ports::{Clock, ConcertRepository, IssueRequest, QueueStore};
use domain::queue::{poll_after_ms, QueuePolicy, QueueStatus, QueueTicket, QueueToken};
use domain::{ConcertId, DomainError, UserId};
use rand::RngCore;

/// A queue token as shown to its holder.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    pub token: String,
    pub concert_id: ConcertId,
    pub status: QueueStatus,
    /// `None` while PREQUEUE: the order is not drawn yet.
    pub position: Option<u64>,
    /// `None` while PREQUEUE.
    pub estimated_wait_secs: Option<u64>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When to ask again.
    pub poll_after_ms: u64,
    pub sale_opens_at: DateTime<Utc>,
}

impl QueueView {
    pub fn new(
        ticket: QueueTicket,
        policy: &QueuePolicy,
        sale_opens_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        let prequeued = ticket.status == QueueStatus::PreQueue;
        Self {
            estimated_wait_secs: (!prequeued)
                .then(|| policy.estimated_wait_secs(ticket.position, ticket.admission_rate)),
            position: (!prequeued).then_some(ticket.position),
            poll_after_ms: poll_after_ms(ticket.status, ticket.position, sale_opens_at, now),
            token: ticket.token.0,
            concert_id: ticket.concert_id,
            status: ticket.status,
            expires_at: ticket.expires_at,
            sale_opens_at,
        }
    }
}

/// Joins a concert's waiting line (its pre-queue before the sale opens), or
/// returns the caller's live token for it.
pub struct JoinQueue {
    pub concerts: Arc<dyn ConcertRepository>,
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
    /// How long before the opening the pre-queue accepts joiners.
    pub prequeue_window: Duration,
}

impl JoinQueue {
    /// Returns the token view and whether it was newly issued.
    #[tracing::instrument(skip(self))]
    pub async fn execute(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
    ) -> Result<(QueueView, bool), DomainError> {
        let concert = self
            .concerts
            .find(concert_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("concert {concert_id}")))?;
        let now = self.clock.now();
        let phase = concert.sale().join_phase(now, self.prequeue_window)?;
        let request = IssueRequest {
            user_id,
            concert_id,
            new_token: new_token(),
            policy: self.policy,
            prequeue: phase == JoinPhase::PreQueue,
            now,
        };
        let (ticket, created) = self.queue.issue(request).await?;
        Ok((
            QueueView::new(ticket, &self.policy, concert.sale_opens_at, now),
            created,
        ))
    }
}

/// 128 random bits from the OS-seeded CSPRNG, hex encoded.
fn new_token() -> QueueToken {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    QueueToken(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore};
    use domain::queue::AdmissionRate;

    fn policy() -> QueuePolicy {
        QueuePolicy {
            max_active: 2,
            active_ttl: chrono::Duration::seconds(60),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    /// A concert whose sale opens `opens_in` seconds from `now()`.
    fn use_case(opens_in: Option<i64>, queue: MockQueueStore) -> JoinQueue {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find().returning(move |id| {
            Ok(opens_in.map(|secs| Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: now() + Duration::seconds(secs),
                max_tickets_per_user: 4,
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        JoinQueue {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: policy(),
            prequeue_window: Duration::seconds(3600),
        }
    }

    fn ticket(r: IssueRequest, status: QueueStatus, position: u64) -> QueueTicket {
        QueueTicket {
            token: r.new_token,
            user_id: r.user_id,
            concert_id: r.concert_id,
            status,
            position,
            expires_at: None,
            admission_rate: Some(AdmissionRate(2.0)),
        }
    }

    #[tokio::test]
    async fn unknown_concert_is_not_found() {
        let err = use_case(None, MockQueueStore::new())
            .execute(UserId(1), ConcertId(1))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::NotFound(_)));
    }

    #[tokio::test]
    async fn issues_an_unguessable_token_and_estimates_the_wait() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_issue()
            .withf(|r| r.new_token.0.len() == 32 && r.policy.max_active == 2 && !r.prequeue)
            .returning(|r| Ok((ticket(r, QueueStatus::Waiting, 10), true)));
        let (view, created) = use_case(Some(-5), queue)
            .execute(UserId(1), ConcertId(1))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(view.position, Some(10));
        assert_eq!(view.estimated_wait_secs, Some(5));
        assert!(view.poll_after_ms >= 250);
        assert_eq!(view.sale_opens_at, now() - Duration::seconds(5));
    }

    #[tokio::test]
    async fn before_the_opening_joins_the_prequeue_and_earlier_is_refused() {
        let mut queue = MockQueueStore::new();
        queue
            .expect_issue()
            .withf(|r| r.prequeue)
            .times(1)
            .returning(|r| Ok((ticket(r, QueueStatus::PreQueue, 0), true)));
        let (view, _) = use_case(Some(600), queue)
            .execute(UserId(1), ConcertId(1))
            .await
            .unwrap();
        assert_eq!((view.position, view.estimated_wait_secs), (None, None));
        assert!(view.poll_after_ms >= 250);
        let err = use_case(Some(3601), MockQueueStore::new())
            .execute(UserId(1), ConcertId(1))
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::SaleNotOpen);
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
    }
}
