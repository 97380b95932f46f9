use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ports::{Clock, ConcertRepository, IssueRequest, QueueStore};
use domain::queue::{QueuePolicy, QueueStatus, QueueTicket, QueueToken};
use domain::{ConcertId, DomainError, UserId};
use rand::RngCore;

/// A queue token as shown to its holder.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    pub token: String,
    pub concert_id: ConcertId,
    pub status: QueueStatus,
    pub position: u64,
    pub estimated_wait_secs: u64,
    pub expires_at: Option<DateTime<Utc>>,
}

impl QueueView {
    pub fn new(ticket: QueueTicket, policy: &QueuePolicy) -> Self {
        Self {
            estimated_wait_secs: policy.estimated_wait_secs(ticket.position, ticket.admission_rate),
            token: ticket.token.0,
            concert_id: ticket.concert_id,
            status: ticket.status,
            position: ticket.position,
            expires_at: ticket.expires_at,
        }
    }
}

/// Joins a concert's waiting line, or returns the caller's live token for it.
pub struct JoinQueue {
    pub concerts: Arc<dyn ConcertRepository>,
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
}

impl JoinQueue {
    /// Returns the token view and whether it was newly issued.
    #[tracing::instrument(skip(self))]
    pub async fn execute(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
    ) -> Result<(QueueView, bool), DomainError> {
        if !self.concerts.exists(concert_id).await? {
            return Err(DomainError::not_found(format!("concert {concert_id}")));
        }
        let request = IssueRequest {
            user_id,
            concert_id,
            new_token: new_token(),
            policy: self.policy,
            now: self.clock.now(),
        };
        let (ticket, created) = self.queue.issue(request).await?;
        Ok((QueueView::new(ticket, &self.policy), created))
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
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore};
    use domain::queue::AdmissionRate;

    fn policy() -> QueuePolicy {
        QueuePolicy {
            max_active: 2,
            active_ttl: chrono::Duration::seconds(60),
        }
    }

    fn use_case(exists: bool, queue: MockQueueStore) -> JoinQueue {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_exists().returning(move |_| Ok(exists));
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        JoinQueue {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: policy(),
        }
    }

    #[tokio::test]
    async fn unknown_concert_is_not_found() {
        let err = use_case(false, MockQueueStore::new())
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
            .withf(|r| r.new_token.0.len() == 32 && r.policy.max_active == 2)
            .returning(|r| {
                Ok((
                    QueueTicket {
                        token: r.new_token,
                        user_id: r.user_id,
                        concert_id: r.concert_id,
                        status: QueueStatus::Waiting,
                        position: 10,
                        expires_at: None,
                        admission_rate: Some(AdmissionRate(2.0)),
                    },
                    true,
                ))
            });
        let (view, created) = use_case(true, queue)
            .execute(UserId(1), ConcertId(1))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(view.position, 10);
        assert_eq!(view.estimated_wait_secs, 5);
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
    }
}
