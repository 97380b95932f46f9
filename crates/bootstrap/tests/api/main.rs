//! End-to-end tests: the real application on a random port, driven over
//! HTTP, on SQLite and on PostgreSQL (see `helpers` for how each is found).

mod helpers;

mod bad_input;
mod browser;
mod concerts;
mod concurrency;
mod idempotency;
mod limits;
mod onsale;
mod onsale_queue;
mod operations;
mod orders;
mod orders_race;
mod overload;
mod pages;
mod pagination;
mod payments;
mod points;
mod queue;
mod redis_cluster;
mod reservations;
mod seat_map_cache;
mod timeouts;
mod upgrade;
mod users;
mod waitlist;
