use async_trait::async_trait;
use chrono::{DateTime, Utc};

use std::sync::Arc;

use crate::ports::RandomSource;
use crate::queue::{
    QueueControlsPatch, QueueLine, QueueOverview, QueuePolicy, QueueTicket, QueueToken,
};
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
    /// The sale has not opened at `now`: the new token goes into the
    /// pre-queue, unless the store has already drawn this concert's line.
    pub prequeue: bool,
    /// The time of the request.
    pub now: DateTime<Utc>,
}

/// The waiting queues, one per concert. Implementations guarantee, across
/// every instance sharing the store: one live token per user and concert,
/// admission in line order, never more than the cap ACTIVE (the concert's
/// stored `maxActive`, else `policy.max_active`), nobody admitted while the
/// line is paused or still has PREQUEUE tokens, and one opening per concert.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// The caller's live token (`false`), or a new one (`true`): PREQUEUE if
    /// `request.prequeue` and the line is not drawn yet, else admitted at once
    /// when the line (pre-queue included) is empty, not paused, and has room.
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
    /// Concerts with someone WAITING or PREQUEUE, and how many. (A lapsed ACTIVE token in
    /// a line with nobody waiting needs no work: reads already see it expired.)
    async fn waiting_lines(&self) -> Result<Vec<QueueLine>, DomainError>;
    /// The opening: in one atomic step, the concert's PREQUEUE tokens become
    /// WAITING in the order [`crate::queue::draw_line_order`] draws from `rng`,
    /// ahead of every token issued since. Returns how many were drawn; 0 when
    /// there was no pre-queue (already opened: it happens once).
    async fn open_sale(
        &self,
        concert_id: ConcertId,
        now: DateTime<Utc>,
        rng: Arc<dyn RandomSource>,
    ) -> Result<u64, DomainError>;
    /// Applies the admin's change to the concert's controls; returns them with
    /// the counts at `now`.
    async fn control(
        &self,
        concert_id: ConcertId,
        patch: QueueControlsPatch,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, DomainError>;
    /// True when this queue lives in the same database as seats and money, so
    /// a write can check the caller's token itself ([`crate::queue::Admission::InWrite`])
    /// and end it in the payment's own statement.
    fn shared_with_writes(&self) -> bool {
        false
    }
    /// Ends the user's ACTIVE window for the concert (after a payment).
    async fn expire_active(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError>;
}
