//! The per-concert waiting queue: tokens and the admission policy.

mod policy;
mod token;

pub use policy::{AdmissionRate, QueuePolicy};
pub use token::{QueueLine, QueueStatus, QueueTicket, QueueToken};
