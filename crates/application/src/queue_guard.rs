use std::sync::Arc;

use domain::ports::{Clock, QueueStore};
use domain::queue::QueueStatus;
use domain::{ConcertId, DomainError, UserId};

/// Lets a request through only with the caller's ACTIVE token for the concert.
pub struct QueueGuard {
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
}

impl QueueGuard {
    pub async fn check(
        &self,
        user_id: UserId,
        token: Option<&str>,
        concert_id: ConcertId,
    ) -> Result<(), DomainError> {
        let token = token.ok_or(DomainError::QueueTokenInvalid)?;
        let ticket = self
            .queue
            .find(token, self.clock.now())
            .await?
            .filter(|t| t.user_id == user_id && t.concert_id == concert_id)
            .ok_or(DomainError::QueueTokenInvalid)?;
        match ticket.status {
            QueueStatus::Active => Ok(()),
            QueueStatus::PreQueue | QueueStatus::Waiting => Err(DomainError::QueueTokenNotActive),
            QueueStatus::Expired => Err(DomainError::QueueTokenInvalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockQueueStore};
    use domain::queue::{QueueTicket, QueueToken};

    fn guard(status: QueueStatus) -> QueueGuard {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(move |token, _| {
            Ok((token == "known").then(|| QueueTicket {
                token: QueueToken(token.into()),
                user_id: UserId(1),
                concert_id: ConcertId(1),
                status,
                position: 0,
                expires_at: None,
                admission_rate: None,
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        QueueGuard {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn every_refusal() {
        use DomainError::{QueueTokenInvalid as Invalid, QueueTokenNotActive as NotActive};
        let active = guard(QueueStatus::Active);
        assert_eq!(
            active.check(UserId(1), Some("known"), ConcertId(1)).await,
            Ok(())
        );
        assert_eq!(
            active.check(UserId(1), None, ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(1), Some("unknown"), ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(2), Some("known"), ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(1), Some("known"), ConcertId(2)).await,
            Err(Invalid)
        );
        let waiting = guard(QueueStatus::Waiting);
        assert_eq!(
            waiting.check(UserId(1), Some("known"), ConcertId(1)).await,
            Err(NotActive)
        );
        let prequeued = guard(QueueStatus::PreQueue);
        assert_eq!(
            prequeued
                .check(UserId(1), Some("known"), ConcertId(1))
                .await,
            Err(NotActive)
        );
        let expired = guard(QueueStatus::Expired);
        assert_eq!(
            expired.check(UserId(1), Some("known"), ConcertId(1)).await,
            Err(Invalid)
        );
    }
}
