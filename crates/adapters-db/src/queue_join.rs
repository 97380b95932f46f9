//! A join that may be admitted at once, on PostgreSQL: the count of ACTIVE
//! tokens, the token and the admission as ONE statement, run right after
//! the statement that took the line's number (and its row lock).
//!
//! Why a second statement and not one: under READ COMMITTED a statement's
//! sub-queries see the snapshot it started with, so a count inside the
//! number-taking UPDATE could miss an admission committed while it waited
//! for the row lock, and admit past the cap. This statement starts after
//! the lock is ours, so every admission that took the lock before us is in
//! its snapshot; the admitter takes the same row lock. Admissions are
//! therefore counted exactly, and a token expired since (by a payment) only
//! makes the count larger than it is: never more than the cap.
//!
//! It replaces three statements (count, insert, record the admission), so
//! the line's row is held for two round trips (this and COMMIT) instead of
//! four: joins into an empty line, which in a sale are most of them, pass
//! the lock that much faster.

use domain::ports::IssueRequest;
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use crate::entity::queue_token;
use crate::time::to_ms;

const ADMITTING_JOIN: &str = "WITH active AS (
  SELECT count(*) AS n FROM queue_tokens
   WHERE concert_id = $1 AND status = 'ACTIVE' AND expires_at_ms > $2),
token AS (
  INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms)
  SELECT $3, $4, $1, $5,
         CASE WHEN n < $6 THEN 'ACTIVE' ELSE 'WAITING' END,
         $2,
         CASE WHEN n < $6 THEN $7::bigint END
    FROM active
  RETURNING id, status, expires_at_ms),
admitted AS (
  UPDATE queue_states SET admitted_seq = $5
   WHERE concert_id = $1 AND EXISTS (SELECT 1 FROM token WHERE status = 'ACTIVE'))
SELECT id, status, expires_at_ms FROM token";

/// The join of `request`'s user to the empty, unpaused line as number
/// `seq`: ACTIVE for the policy's window if fewer than `cap` tokens are
/// ACTIVE now, else WAITING. Run inside the transaction that took `seq`. A
/// unique violation (the user's other request won) is returned as the
/// error, for the caller to roll back.
pub(crate) async fn admitting_join(
    txn: &impl ConnectionTrait,
    request: &IssueRequest,
    seq: i64,
    cap: u32,
) -> Result<queue_token::Model, DbErr> {
    let now_ms = to_ms(request.now);
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        ADMITTING_JOIN,
        [
            request.concert_id.0.into(),
            now_ms.into(),
            request.new_token.0.clone().into(),
            request.user_id.0.into(),
            seq.into(),
            i64::from(cap).into(),
            to_ms(request.now + request.policy.active_ttl).into(),
        ],
    );
    let row = txn
        .query_one(statement)
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    Ok(queue_token::Model {
        id: row.try_get("", "id")?,
        token: request.new_token.0.clone(),
        user_id: request.user_id.0,
        concert_id: request.concert_id.0,
        seq,
        status: row.try_get("", "status")?,
        issued_at_ms: now_ms,
        expires_at_ms: row.try_get("", "expires_at_ms")?,
    })
}
