use std::sync::Arc;

use domain::ports::{Clock, QueueStore};
use domain::queue::QueuePolicy;
use domain::{DomainError, UserId};

use crate::join_queue::QueueView;

/// Polls a queue token: the hottest read of a sale.
pub struct ViewQueueToken {
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
    pub policy: QueuePolicy,
}

impl ViewQueueToken {
    pub async fn execute(
        &self,
        user_id: UserId,
        token: Option<&str>,
    ) -> Result<QueueView, DomainError> {
        let token = token.ok_or(DomainError::QueueTokenInvalid)?;
        match self.queue.find(token, self.clock.now()).await? {
            Some(ticket) if ticket.user_id == user_id => Ok(QueueView::new(ticket, &self.policy)),
            _ => Err(DomainError::QueueTokenInvalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockQueueStore};
    use domain::queue::{QueueStatus, QueueTicket, QueueToken};
    use domain::ConcertId;

    #[tokio::test]
    async fn only_the_holder_may_poll_a_token() {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(|token, _| {
            Ok((token == "mine").then(|| QueueTicket {
                token: QueueToken(token.into()),
                user_id: UserId(1),
                concert_id: ConcertId(1),
                status: QueueStatus::Waiting,
                position: 3,
                expires_at: None,
                admission_rate: None,
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let uc = ViewQueueToken {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 1,
                active_ttl: chrono::Duration::seconds(10),
            },
        };
        let view = uc.execute(UserId(1), Some("mine")).await.unwrap();
        assert_eq!((view.position, view.estimated_wait_secs), (3, 30));
        assert_eq!(
            uc.execute(UserId(2), Some("mine")).await,
            Err(DomainError::QueueTokenInvalid)
        );
        assert_eq!(
            uc.execute(UserId(1), Some("other")).await,
            Err(DomainError::QueueTokenInvalid)
        );
        assert_eq!(
            uc.execute(UserId(1), None).await,
            Err(DomainError::QueueTokenInvalid)
        );
    }
}
