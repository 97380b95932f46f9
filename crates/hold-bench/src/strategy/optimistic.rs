//! (a) What `DbReservationStore::hold` did until 2026-11-30 (it now reads the
//! version inside its one statement, `adapters-db/src/seat_hold.rs`): a plain
//! read of the seat, then in one transaction an UPDATE that succeeds only
//! if the version is still the one read. No lock is held between the read and
//! the write; a loser learns it from `rows_affected = 0`.

use sea_orm::sqlx::{self, PgPool};

use super::{finish, now_ms, takeable, Outcome, HOLD_TTL_MS};

pub async fn hold(pool: &PgPool, seat_id: i64, user_id: i64) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let (status, hold_expires_at_ms, version): (String, Option<i64>, i64) =
        sqlx::query_as("SELECT status, hold_expires_at_ms, version FROM seats WHERE id = $1")
            .bind(seat_id)
            .fetch_one(pool)
            .await?;
    if !takeable(&status, hold_expires_at_ms, now) {
        // HoldPolicy::decide refuses before the store is reached.
        return Ok(Outcome::Lost);
    }
    let mut tx = pool.begin().await?;
    let taken = sqlx::query(
        "UPDATE seats SET status = 'HELD', hold_expires_at_ms = $1, version = version + 1
         WHERE id = $2 AND version = $3
           AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at_ms <= $4))",
    )
    .bind(now + HOLD_TTL_MS)
    .bind(seat_id)
    .bind(version)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken == 0 {
        tx.rollback().await?;
        return Ok(Outcome::Lost);
    }
    finish(tx, seat_id, user_id, version + 1, now).await
}
