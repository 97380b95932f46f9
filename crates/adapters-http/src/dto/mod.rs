//! Request and response bodies, in the contract's camelCase.

mod admin;
mod concerts;
mod payments;
mod points;
mod problem;
mod queue;
mod reservations;
mod users;
mod waitlist;

pub use admin::*;
pub use concerts::*;
pub use payments::*;
pub use points::*;
pub use problem::{ErrorCode, Problem};
pub use queue::*;
pub use reservations::*;
pub use users::*;
pub use waitlist::*;
