use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::queue::{QueueLine, QueuePolicy, QueueTicket, QueueToken};
use crate::{ConcertId, DomainError, UserId};

/// A request to join a concert's line.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRequest {
    /// Who joins.
    pub user_id: UserId,
    /// Which concert's line.
    pub concert_id: ConcertId,
    /// Used only when the user has no live token for the concert.
    pub new_token: QueueToken,
    /// The concert's admission policy.
    pub policy: QueuePolicy,
    /// The time of the request.
    pub now: DateTime<Utc>,
}

/// The waiting queues, one per concert. Implementations guarantee, across
/// every instance sharing the store: one live token per user and concert,
/// FIFO admission, and never more than `policy.max_active` ACTIVE tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// The caller's live token (`false`), or a new one (`true`), admitted at
    /// once when the line is empty and there is room.
    async fn issue(&self, request: IssueRequest) -> Result<(QueueTicket, bool), DomainError>;
    /// The token as it stands at `now`.
    async fn find(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<QueueTicket>, DomainError>;
    /// Expires lapsed ACTIVE tokens and admits the next in line into the free
    /// places; returns how many were admitted. Safe to run in every instance at once.
    async fn admit(
        &self,
        concert_id: ConcertId,
        policy: QueuePolicy,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError>;
    /// Concerts with someone WAITING, and how many. (A lapsed ACTIVE token in
    /// a line with nobody waiting needs no work: reads already see it expired.)
    async fn waiting_lines(&self) -> Result<Vec<QueueLine>, DomainError>;
    /// Ends the user's ACTIVE window for the concert (after a payment).
    async fn expire_active(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError>;
}
