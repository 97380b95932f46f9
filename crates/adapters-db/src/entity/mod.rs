//! SeaORM entities, one per table. They never leave this crate.

pub mod app_secret;
pub mod balance;
pub mod concert;
pub mod idempotency_key;
pub mod login_failure;
pub mod payment;
pub mod payment_item;
pub mod point_entry;
pub mod queue_state;
pub mod queue_token;
pub mod reservation;
pub mod schedule;
pub mod seat;
pub mod user;
pub mod waitlist_entry;
