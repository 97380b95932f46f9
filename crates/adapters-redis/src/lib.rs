//! The waiting queue on Redis (one server or a Redis Cluster): the same port,
//! the same guarantees as the database queue, with the polling traffic of a
//! sale kept off the database.

mod connect;
mod keys;
mod queue_store;
mod scripts;

pub use connect::{connect, ping, RedisConnection, CLUSTER_SCHEME};
pub use keys::{token_concert, Keys, CONCERT_KEYS};
pub use queue_store::RedisQueueStore;
