//! SeaORM adapters: the domain's store ports on PostgreSQL and SQLite.

mod concert_repository;
mod connect;
mod entity;
mod error;
mod idempotency_store;
mod login_attempts;
mod payment_statement;
mod payment_store;
mod point_store;
mod queue_join;
mod queue_store;
mod reservation_store;
mod sales_report;
mod seat_hold;
mod seat_map_cache;
mod seat_repository;
mod secrets;
mod time;
mod user_repository;
mod waitlist_handover;
mod waitlist_store;

pub use concert_repository::DbConcertRepository;
pub use connect::{
    connect, connect_with, migrate, ping, pool_connections, DbSetupError, DbTimeouts,
};
pub use idempotency_store::DbIdempotencyStore;
pub use login_attempts::DbLoginAttempts;
pub use payment_store::DbPaymentStore;
pub use point_store::DbPointStore;
pub use queue_store::DbQueueStore;
pub use reservation_store::DbReservationStore;
pub use sales_report::DbSalesReport;
pub use sea_orm::DatabaseConnection;
pub use seat_map_cache::SeatMapCache;
pub use seat_repository::DbSeatRepository;
pub use secrets::{claim_once, load_or_create_secret};
pub use user_repository::DbUserRepository;
pub use waitlist_handover::HandOver;
pub use waitlist_store::DbWaitlistStore;
