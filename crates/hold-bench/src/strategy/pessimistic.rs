//! (b) Lock the seat row first with SELECT ... FOR UPDATE, check it, then
//! write. Contenders queue on the row lock, each holding a pooled connection
//! while it waits, and each loser finds out only after the winner commits.

use sea_orm::sqlx::{self, PgPool};

use super::{finish, now_ms, takeable, Outcome, HOLD_TTL_MS};

pub async fn hold(pool: &PgPool, seat_id: i64, user_id: i64) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let (status, hold_expires_at_ms, version): (String, Option<i64>, i64) = sqlx::query_as(
        "SELECT status, hold_expires_at_ms, version FROM seats WHERE id = $1 FOR UPDATE",
    )
    .bind(seat_id)
    .fetch_one(&mut *tx)
    .await?;
    if !takeable(&status, hold_expires_at_ms, now) {
        tx.rollback().await?;
        return Ok(Outcome::Lost);
    }
    sqlx::query(
        "UPDATE seats SET status = 'HELD', hold_expires_at_ms = $1, version = version + 1
         WHERE id = $2",
    )
    .bind(now + HOLD_TTL_MS)
    .bind(seat_id)
    .execute(&mut *tx)
    .await?;
    finish(tx, seat_id, user_id, version + 1, now).await
}
