//! (d) A distributed lock per seat in Redis: `SET lock:seat:<id> <random> NX
//! PX 5000`, then (a)'s transaction without the version check, then release
//! with a compare-and-delete script so a lock that expired and was taken by
//! someone else is never deleted by us.

use std::sync::LazyLock;

use rand::Rng;
use redis::aio::ConnectionManager;
use redis::Script;
use sea_orm::sqlx::{self, PgPool};

use super::{finish, now_ms, Outcome, HOLD_TTL_MS};

const LOCK_TTL_MS: u64 = 5_000;

/// Deletes the lock only if it still holds our token (sent as EVALSHA).
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#,
    )
});

pub async fn hold(
    pool: &PgPool,
    mut redis: ConnectionManager,
    seat_id: i64,
    user_id: i64,
) -> anyhow::Result<Outcome> {
    let key = format!("lock:seat:{seat_id}");
    let token = format!("{:032x}", rand::thread_rng().gen::<u128>());
    let locked: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(LOCK_TTL_MS)
        .query_async(&mut redis)
        .await?;
    if locked.is_none() {
        return Ok(Outcome::Lost);
    }
    let result = take(pool, seat_id, user_id).await;
    let _released: i64 = RELEASE
        .key(&key)
        .arg(&token)
        .invoke_async(&mut redis)
        .await?;
    result
}

async fn take(pool: &PgPool, seat_id: i64, user_id: i64) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let version: Option<(i64,)> = sqlx::query_as(
        "UPDATE seats SET status = 'HELD', hold_expires_at_ms = $1, version = version + 1
         WHERE id = $2 AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at_ms <= $3))
         RETURNING version",
    )
    .bind(now + HOLD_TTL_MS)
    .bind(seat_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((version,)) = version else {
        // The lock was free, but an earlier holder already took the seat.
        tx.rollback().await?;
        return Ok(Outcome::Lost);
    };
    finish(tx, seat_id, user_id, version, now).await
}
