use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, QueueStore};
use domain::queue::QueuePolicy;
use domain::{DomainError, UserId};

use crate::join_queue::QueueView;

/// Polls a queue token: the hottest read of a sale.
pub struct ViewQueueToken {
    /// For the concert's `saleOpensAt` (each instance keeps concerts it has read).
    pub concerts: Arc<dyn ConcertRepository>,
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
        let now = self.clock.now();
        let ticket = match self.queue.find(token, now).await? {
            Some(ticket) if ticket.user_id == user_id => ticket,
            _ => return Err(DomainError::QueueTokenInvalid),
        };
        let concert = self
            .concerts
            .find(ticket.concert_id)
            .await?
            .ok_or(DomainError::QueueTokenInvalid)?;
        Ok(QueueView::new(
            ticket,
            &self.policy,
            concert.sale_opens_at,
            now,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::concert::Concert;
    use domain::ports::{MockClock, MockConcertRepository, MockQueueStore};
    use domain::queue::{QueueStatus, QueueTicket};
    use domain::ConcertId;

    #[tokio::test]
    async fn only_the_holder_may_poll_a_token() {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(|token, _| {
            Ok((token == "mine").then(|| QueueTicket {
                position: 3,
                ..QueueTicket::stub(token, UserId(1), ConcertId(1), QueueStatus::Waiting)
            }))
        });
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find().returning(|id| {
            Ok(Some(Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: chrono::Utc::now(),
                max_tickets_per_user: 4,
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let uc = ViewQueueToken {
            concerts: Arc::new(concerts),
            queue: Arc::new(queue),
            clock: Arc::new(clock),
            policy: QueuePolicy {
                max_active: 1,
                active_ttl: chrono::Duration::seconds(10),
            },
        };
        let view = uc.execute(UserId(1), Some("mine")).await.unwrap();
        assert_eq!(
            (view.position, view.estimated_wait_secs),
            (Some(3), Some(30))
        );
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
