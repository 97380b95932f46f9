//! Request and response bodies, in the contract's camelCase.

mod concerts;
mod payments;
mod points;
mod problem;
mod queue;
mod reservations;
mod users;

pub use concerts::*;
pub use payments::*;
pub use points::*;
pub use problem::{ErrorCode, Problem};
pub use queue::*;
pub use reservations::*;
pub use users::*;
