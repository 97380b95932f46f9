//! The per-concert waiting queue: tokens and the admission policy.

mod admission;
mod controls;
mod opening;
mod pacing;
mod policy;
mod token;

pub use admission::{admitted, Admission};
pub use controls::{QueueControls, QueueControlsPatch, QueueCounts, QueueOverview};
pub use opening::draw_line_order;
pub use pacing::{poll_after_ms, MAX_POLL_MS, MIN_POLL_MS};
pub use policy::{AdmissionRate, QueuePolicy};
pub use token::{QueueLine, QueueStatus, QueueTicket, QueueToken};
