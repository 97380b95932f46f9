//! The concert reservation domain: entities, value objects, policies and the
//! ports the outside world implements. Pure logic: no I/O, no framework types.

pub mod concert;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod money;
pub mod payment;
pub mod points;
pub mod ports;
pub mod queue;
pub mod reservation;
pub mod sales;
pub mod seat;
pub mod user;
pub mod waitlist;

pub use error::DomainError;
pub use ids::{ConcertId, PaymentId, ReservationId, ScheduleId, SeatId, UserId, WaitlistEntryId};
pub use money::Won;
