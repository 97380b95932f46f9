//! The waiting queue on Redis: the same port, the same guarantees as the
//! database queue, with the polling traffic of a sale kept off the database.

mod connect;
mod keys;
mod queue_store;
mod scripts;

pub use connect::{connect, ping};
pub use keys::Keys;
pub use queue_store::RedisQueueStore;
pub use redis::aio::ConnectionManager as RedisConnection;
