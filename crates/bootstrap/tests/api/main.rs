//! End-to-end tests: the real application on a random port, driven over
//! HTTP, on SQLite and on PostgreSQL (see `helpers` for how each is found).

mod helpers;

mod browser;
mod concerts;
mod concurrency;
mod idempotency;
mod onsale;
mod onsale_queue;
mod operations;
mod orders;
mod orders_race;
mod pages;
mod payments;
mod points;
mod queue;
mod reservations;
mod upgrade;
mod users;
mod waitlist;
