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
