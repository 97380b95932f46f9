use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::queue::Admission;
use crate::reservation::{NewHold, Reservation};
use crate::{DomainError, Page, PageRequest, ReservationId, UserId};

/// Seat holds. Each change touches the reservation and its seat in one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// Takes the seat if it is free at `hold.now`, the user has room under
    /// both limits and, with [`Admission::InWrite`], the token admits them;
    /// otherwise the refusal [`NewHold::refusal`] names from what the write
    /// saw ([`DomainError::SeatUnavailable`] if someone else won).
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) when another
    /// write of the same user's holds overtook this one: retry afresh.
    async fn hold<'a>(
        &self,
        hold: &NewHold,
        admission: Admission<'a>,
    ) -> Result<Reservation, DomainError>;
    /// Unexpired HELD reservations of the user at `now`.
    async fn live_holds(&self, user_id: UserId, now: DateTime<Utc>) -> Result<u32, DomainError>;
    /// The user's reservations, newest first, one page at a time.
    async fn list_of(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<Reservation>, DomainError>;
    /// The reservation, if it exists.
    async fn find(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError>;
    /// HELD → CANCELLED and the seat freed, if still HELD and unexpired at `now`.
    async fn cancel(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, DomainError>;
    /// Marks up to `limit` lapsed holds EXPIRED and frees their seats; returns how many.
    async fn expire_lapsed(&self, now: DateTime<Utc>, limit: u64) -> Result<u64, DomainError>;
}
