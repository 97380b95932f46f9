use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::waitlist::{NewEntry, WaitlistEntry};
use crate::{ConcertId, DomainError, ScheduleId, UserId, WaitlistEntryId};

/// The waiting lists. Hand-overs of freed seats happen inside the reservation
/// and payment stores' transactions; this port joins, lists and leaves.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WaitlistStore: Send + Sync {
    /// The user's live (WAITING or OFFERED) entry for the schedule (`false`),
    /// or a new WAITING one (`true`).
    async fn join(&self, entry: &NewEntry) -> Result<(WaitlistEntry, bool), DomainError>;
    /// The user's live (WAITING or OFFERED) entry for the schedule, if any.
    async fn live_entry(
        &self,
        user_id: UserId,
        schedule_id: ScheduleId,
    ) -> Result<Option<WaitlistEntry>, DomainError>;
    /// One entry by id, whoever's it is.
    async fn find(&self, id: WaitlistEntryId) -> Result<Option<WaitlistEntry>, DomainError>;
    /// The user's entries, newest first: at most `limit`, older than `before` when given.
    async fn list_of(
        &self,
        user_id: UserId,
        limit: u32,
        before: Option<WaitlistEntryId>,
    ) -> Result<Vec<WaitlistEntry>, DomainError>;
    /// WAITING → LEFT; [`DomainError::WaitlistEntryClosed`] when it is no longer WAITING.
    async fn leave(&self, id: WaitlistEntryId) -> Result<WaitlistEntry, DomainError>;
    /// Whether the schedule's list has WAITING entries (a lapsed hold then stays HELD).
    async fn has_waiting(&self, schedule_id: ScheduleId) -> Result<bool, DomainError>;
    /// Seats of the schedule a hold could take at `now`.
    async fn available_seats(
        &self,
        schedule_id: ScheduleId,
        now: DateTime<Utc>,
    ) -> Result<u32, DomainError>;
    /// Seats of the concert the user owns at `now`: live holds and paid.
    async fn owned_tickets(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError>;
}
