//! (c) No seat write and no check: INSERT the reservation and let the partial
//! unique index `ux_reservations_live_seat` pick the winner. A concurrent
//! INSERT of the same key waits for the first to commit, then fails with 23505.

use sea_orm::sqlx::{self, PgPool};

use super::{is_unique_violation, now_ms, Outcome, HOLD_TTL_MS, INSERT_RESERVATION};

pub async fn hold(pool: &PgPool, seat_id: i64, user_id: i64) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let inserted = sqlx::query(INSERT_RESERVATION)
        .bind(user_id)
        .bind(seat_id)
        .bind(0_i64)
        .bind(now + HOLD_TTL_MS)
        .bind(now)
        .execute(pool)
        .await;
    match inserted {
        Ok(_) => Ok(Outcome::Won),
        // The index is this strategy's only check, so this is an ordinary loss.
        Err(e) if is_unique_violation(&e) => Ok(Outcome::Lost),
        Err(e) => Err(e.into()),
    }
}
