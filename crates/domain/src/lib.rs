//! The concert reservation domain: entities, value objects, policies and the
//! ports the outside world implements. Pure logic: no I/O, no framework types.

#![warn(missing_docs)]

/// Concerts, schedules and the catalogue rules.
pub mod concert;
/// The domain's error type.
pub mod error;
/// Idempotency keys and stored responses.
pub mod idempotency;
pub mod ids;
/// Money in won.
pub mod money;
pub mod page;
/// Payment decisions and payments.
pub mod payment;
/// Point balances and their history.
pub mod points;
pub mod ports;
pub mod queue;
/// Seat holds and their life cycle.
pub mod reservation;
pub mod sales;
/// Seats and their status.
pub mod seat;
/// Users, login ids, passwords and login throttling.
pub mod user;
pub mod waitlist;

#[cfg(test)]
mod test_support;

pub use error::{BoxError, DomainError, StoreError, UnknownStatus};
pub use ids::{ConcertId, PaymentId, ReservationId, ScheduleId, SeatId, UserId, WaitlistEntryId};
pub use money::{NegativeAmount, PointChange, Won};
pub use page::{Page, PageRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
