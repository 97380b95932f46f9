//! The bench's own database: created fresh, given a minimal schema, reset
//! between runs and dropped at the end.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::{self, PgPool};

/// Connections per pool, the service's default `database.max_connections`.
pub const POOL_SIZE: u32 = 10;

/// Only the columns a hold reads or writes. The partial unique index is the
/// service's `ux_reservations_live_seat`: every strategy pays for it, and
/// strategy (c) relies on nothing else.
const SCHEMA: &[&str] = &[
    "CREATE TABLE seats (
        id BIGSERIAL PRIMARY KEY,
        status VARCHAR(16) NOT NULL CHECK (status IN ('AVAILABLE', 'HELD', 'SOLD')),
        hold_expires_at_ms BIGINT,
        version BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE TABLE reservations (
        id BIGSERIAL PRIMARY KEY,
        user_id BIGINT NOT NULL,
        seat_id BIGINT NOT NULL REFERENCES seats (id) ON DELETE RESTRICT,
        seat_version BIGINT NOT NULL,
        status VARCHAR(16) NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED')),
        expires_at_ms BIGINT NOT NULL,
        created_at_ms BIGINT NOT NULL
    )",
    "CREATE UNIQUE INDEX ux_reservations_live_seat ON reservations (seat_id) WHERE status IN ('HELD', 'CONFIRMED')",
];

/// A database that exists for the life of this value's owner; `drop` removes it.
pub struct BenchDb {
    admin: PgConnectOptions,
    pub name: String,
    pub pool: PgPool,
}

impl BenchDb {
    /// Creates `hold_bench_<pid>` next to the database `url` names, with the schema.
    pub async fn create(url: &str) -> anyhow::Result<Self> {
        let admin = PgConnectOptions::from_str(url).context("--database-url")?;
        let name = format!("hold_bench_{}", std::process::id());
        let server = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone())
            .await
            .with_context(|| format!("connecting to {url}"))?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&server)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&server)
            .await?;
        server.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .min_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(admin.clone().database(&name))
            .await?;
        for ddl in SCHEMA {
            sqlx::query(ddl).execute(&pool).await?;
        }
        Ok(BenchDb { admin, name, pool })
    }

    /// Empties both tables and inserts `count` fresh AVAILABLE seats; returns the first id.
    /// Ids keep growing across runs (no RESTART IDENTITY), so a seat id, and the
    /// Redis key made from it, is never reused within one process.
    pub async fn reset(&self, count: i64) -> anyhow::Result<i64> {
        sqlx::query("TRUNCATE reservations, seats")
            .execute(&self.pool)
            .await?;
        let (first,): (i64,) = sqlx::query_as(
            "WITH s AS (INSERT INTO seats (status) SELECT 'AVAILABLE' FROM generate_series(1, $1) RETURNING id)
             SELECT min(id) FROM s",
        )
        .bind(count)
        .fetch_one(&self.pool)
        .await?;
        sqlx::query("VACUUM ANALYZE seats, reservations")
            .execute(&self.pool)
            .await?;
        Ok(first)
    }

    /// Seats in `first..end` whose live reservations are not exactly one.
    pub async fn seats_without_one_live_hold(&self, first: i64, end: i64) -> anyhow::Result<i64> {
        let (bad,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM seats s
             WHERE s.id >= $1 AND s.id < $2
               AND (SELECT count(*) FROM reservations r
                    WHERE r.seat_id = s.id AND r.status IN ('HELD', 'CONFIRMED')) <> 1",
        )
        .bind(first)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        Ok(bad)
    }

    pub async fn drop_database(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let server = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.admin)
            .await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&server)
        .await?;
        server.close().await;
        Ok(())
    }
}
