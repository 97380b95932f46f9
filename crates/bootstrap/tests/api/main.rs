//! End-to-end tests: the real application on a random port, driven over
//! HTTP, on SQLite and on PostgreSQL (see `helpers` for how each is found).

mod helpers;

mod concerts;
mod concurrency;
mod limits;
mod operations;
mod pagination;
mod payments;
mod points;
mod queue;
mod reservations;
mod users;
