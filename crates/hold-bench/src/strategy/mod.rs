//! Four ways to take a seat hold. Each attempt is one try: no retries, a loss
//! is final (the service answers 409 SEAT_UNAVAILABLE).

mod optimistic;
mod pessimistic;
mod redis_lock;
mod unique_index;

use std::time::{SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;
use sea_orm::sqlx::{self, PgPool, Postgres, Transaction};

/// How long a hold lasts (the service's default `hold.ttl_secs`).
const HOLD_TTL_MS: i64 = 300_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// (a) read the version, then a conditional UPDATE (what the service does).
    Optimistic,
    /// (b) SELECT ... FOR UPDATE on the seat, check, UPDATE.
    Pessimistic,
    /// (c) no seat write at all: INSERT and let the partial unique index refuse.
    UniqueIndex,
    /// (d) Redis SET NX PX lock around (a)'s SQL without the version check.
    RedisLock,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::Optimistic,
        Strategy::Pessimistic,
        Strategy::UniqueIndex,
        Strategy::RedisLock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Optimistic => "optimistic",
            Strategy::Pessimistic => "pessimistic",
            Strategy::UniqueIndex => "unique-index",
            Strategy::RedisLock => "redis-lock",
        }
    }

    /// One attempt by `user_id` to hold `seat_id`.
    pub async fn attempt(self, ctx: &Ctx, seat_id: i64, user_id: i64) -> anyhow::Result<Outcome> {
        match self {
            Strategy::Optimistic => optimistic::hold(&ctx.pool, seat_id, user_id).await,
            Strategy::Pessimistic => pessimistic::hold(&ctx.pool, seat_id, user_id).await,
            Strategy::UniqueIndex => unique_index::hold(&ctx.pool, seat_id, user_id).await,
            Strategy::RedisLock => {
                let redis = ctx
                    .redis
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("redis-lock needs Redis (--redis-url)"))?;
                redis_lock::hold(&ctx.pool, redis, seat_id, user_id).await
            }
        }
    }
}

/// What a strategy needs: the pool, and Redis for (d).
pub struct Ctx {
    pub pool: PgPool,
    pub redis: Option<ConnectionManager>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Won,
    /// Refused by the strategy's own check.
    Lost,
    /// Refused by the partial unique index. For (c) that is how one loses; for
    /// the others it means their own check let a second winner through.
    LostToIndex,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// True when a seat in this state can be held at `now`: free, or its hold lapsed.
fn takeable(status: &str, hold_expires_at_ms: Option<i64>, now: i64) -> bool {
    status == "AVAILABLE" || (status == "HELD" && hold_expires_at_ms.is_some_and(|at| at <= now))
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.code().as_deref() == Some("23505"))
}

/// The service's INSERT of the reservation row; also used alone by (c).
const INSERT_RESERVATION: &str = "INSERT INTO reservations
    (user_id, seat_id, seat_version, status, expires_at_ms, created_at_ms)
    VALUES ($1, $2, $3, 'HELD', $4, $5)";

/// The rest of the service's hold once the seat row is taken: write down a
/// lapsed hold on the seat, insert the reservation, commit.
async fn finish(
    mut tx: Transaction<'_, Postgres>,
    seat_id: i64,
    user_id: i64,
    seat_version: i64,
    now: i64,
) -> anyhow::Result<Outcome> {
    sqlx::query(
        "UPDATE reservations SET status = 'EXPIRED'
         WHERE seat_id = $1 AND status = 'HELD' AND expires_at_ms <= $2",
    )
    .bind(seat_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(INSERT_RESERVATION)
        .bind(user_id)
        .bind(seat_id)
        .bind(seat_version)
        .bind(now + HOLD_TTL_MS)
        .bind(now)
        .execute(&mut *tx)
        .await;
    match inserted {
        Ok(_) => {
            tx.commit().await?;
            Ok(Outcome::Won)
        }
        Err(e) if is_unique_violation(&e) => {
            tx.rollback().await?;
            Ok(Outcome::LostToIndex)
        }
        Err(e) => Err(e.into()),
    }
}
