//! Request and response bodies, in the contract's camelCase.

mod admin;
mod concerts;
mod payments;
mod points;
mod problem;
mod queue;
mod reservations;
mod users;

pub use admin::*;
pub use concerts::*;
pub use payments::*;
pub use points::*;
pub use problem::Problem;
pub use queue::*;
pub use reservations::*;
pub use users::*;
