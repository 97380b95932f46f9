//! The waiting queue in the database.
//!
//! Each concert has one `queue_states` row: `issued_seq` counts tokens issued,
//! `admitted_seq` how many of them have been admitted. Admission is strictly in
//! `seq` order, and a WAITING token only ever leaves the line by admission, so
//! the WAITING tokens are exactly those with `admitted_seq < seq <= issued_seq`
//! and a position is `seq - admitted_seq`: two primary-key reads, whatever the
//! length of the line.
//!
//! Every change that can add an ACTIVE token starts its transaction by
//! updating that row. On PostgreSQL the update takes the row lock, so issuers
//! and admitters of one concert, in every instance, take turns; on SQLite the
//! first write takes the database's write lock. Under the lock, the count of
//! ACTIVE tokens is current, so the cap holds. Expiry only lowers the count and
//! needs no lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{IssueRequest, QueueStore};
use domain::queue::{AdmissionRate, QueueLine, QueuePolicy, QueueStatus, QueueTicket, QueueToken};
use domain::{ConcertId, DomainError, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};

use crate::entity::{queue_state, queue_token};
use crate::error::{db_err, is_unique_violation};
use crate::time::{from_ms, to_ms};

const WAITING: &str = "WAITING";
const ACTIVE: &str = "ACTIVE";
const EXPIRED: &str = "EXPIRED";

/// How often the observed admission rate is re-measured.
const RATE_WINDOW_MS: i64 = 10_000;

/// The queue port on the shared database.
pub struct DbQueueStore {
    pub db: DatabaseConnection,
}

/// Locks the concert's queue row for the rest of the transaction and returns it.
/// The write comes first: it is what takes the lock.
async fn lock_state(
    db: &impl ConnectionTrait,
    concert_id: i64,
) -> Result<queue_state::Model, DomainError> {
    queue_state::Entity::update_many()
        .col_expr(
            queue_state::Column::Version,
            Expr::col(queue_state::Column::Version).add(1),
        )
        .filter(queue_state::Column::ConcertId.eq(concert_id))
        .exec(db)
        .await
        .map_err(db_err)?;
    queue_state::Entity::find_by_id(concert_id)
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| DomainError::not_found(format!("concert {concert_id}")))
}

/// Reserves the next issue number of the concert's line and returns the
/// row; like [`lock_state`], the write takes the line's lock.
async fn take_next_seq(
    db: &impl ConnectionTrait,
    concert_id: i64,
) -> Result<queue_state::Model, DomainError> {
    queue_state::Entity::update_many()
        .col_expr(
            queue_state::Column::IssuedSeq,
            Expr::col(queue_state::Column::IssuedSeq).add(1),
        )
        .col_expr(
            queue_state::Column::Version,
            Expr::col(queue_state::Column::Version).add(1),
        )
        .filter(queue_state::Column::ConcertId.eq(concert_id))
        .exec_with_returning(db)
        .await
        .map_err(db_err)?
        .pop()
        .ok_or_else(|| DomainError::not_found(format!("concert {concert_id}")))
}

/// ACTIVE tokens of the concert whose window has not ended at `now_ms`.
async fn count_active(
    db: &impl ConnectionTrait,
    concert_id: i64,
    now_ms: i64,
) -> Result<u64, DomainError> {
    queue_token::Entity::find()
        .filter(queue_token::Column::ConcertId.eq(concert_id))
        .filter(queue_token::Column::Status.eq(ACTIVE))
        .filter(queue_token::Column::ExpiresAtMs.gt(now_ms))
        .count(db)
        .await
        .map_err(db_err)
}

fn ticket(
    token: queue_token::Model,
    state: Option<&queue_state::Model>,
    now: DateTime<Utc>,
) -> QueueTicket {
    let expires_at = token.expires_at_ms.map(from_ms);
    let status = match token.status.as_str() {
        WAITING => QueueStatus::Waiting,
        ACTIVE if expires_at.is_some_and(|at| at > now) => QueueStatus::Active,
        _ => QueueStatus::Expired,
    };
    let (position, admission_rate) = match (status, state) {
        (QueueStatus::Waiting, Some(state)) => (
            (token.seq - state.admitted_seq).max(1) as u64,
            (state.rate_milli_per_sec > 0)
                .then(|| AdmissionRate(state.rate_milli_per_sec as f64 / 1000.0)),
        ),
        (QueueStatus::Waiting, None) => (1, None),
        _ => (0, None),
    };
    QueueTicket {
        token: QueueToken(token.token),
        user_id: UserId(token.user_id),
        concert_id: ConcertId(token.concert_id),
        status,
        position,
        expires_at,
        admission_rate,
    }
}

impl DbQueueStore {
    async fn live_token(
        &self,
        user_id: i64,
        concert_id: i64,
        now_ms: i64,
    ) -> Result<Option<queue_token::Model>, DomainError> {
        // A lapsed ACTIVE token still counts as live for the unique index: end it first.
        queue_token::Entity::update_many()
            .col_expr(queue_token::Column::Status, Expr::value(EXPIRED))
            .filter(queue_token::Column::UserId.eq(user_id))
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Status.eq(ACTIVE))
            .filter(queue_token::Column::ExpiresAtMs.lte(now_ms))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        queue_token::Entity::find()
            .filter(queue_token::Column::UserId.eq(user_id))
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Status.is_in([WAITING, ACTIVE]))
            .one(&self.db)
            .await
            .map_err(db_err)
    }

    async fn state(&self, concert_id: i64) -> Result<Option<queue_state::Model>, DomainError> {
        queue_state::Entity::find_by_id(concert_id)
            .one(&self.db)
            .await
            .map_err(db_err)
    }

    /// Issues a new token under the concert's lock; `None` if the user won a
    /// race against themselves (the unique index refused a second live token).
    async fn issue_new(&self, request: &IssueRequest) -> Result<Option<QueueTicket>, DomainError> {
        let concert_id = request.concert_id.0;
        let now_ms = to_ms(request.now);
        let txn = self.db.begin().await.map_err(db_err)?;
        // Taking the next number is the write that locks the line; in a rush
        // (someone already waiting) only the INSERT follows under the lock.
        let mut state = take_next_seq(&txn, concert_id).await?;
        let seq = state.issued_seq;
        let line_was_empty = state.admitted_seq == seq - 1;
        let admit_now = line_was_empty
            && request
                .policy
                .room(count_active(&txn, concert_id, now_ms).await?)
                > 0;
        let token = queue_token::Model {
            id: 0,
            token: request.new_token.0.clone(),
            user_id: request.user_id.0,
            concert_id,
            seq,
            status: if admit_now { ACTIVE } else { WAITING }.to_owned(),
            issued_at_ms: now_ms,
            expires_at_ms: admit_now.then(|| to_ms(request.now + request.policy.active_ttl)),
        };
        let mut row: queue_token::ActiveModel = token.clone().into();
        row.id = NotSet;
        match queue_token::Entity::insert(row).exec(&txn).await {
            Ok(_) => {}
            // The same user's other request won: roll back, seq included.
            Err(e) if is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        }
        if admit_now {
            state.admitted_seq = seq;
            queue_state::Entity::update_many()
                .col_expr(queue_state::Column::AdmittedSeq, Expr::value(seq))
                .filter(queue_state::Column::ConcertId.eq(concert_id))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(Some(ticket(token, Some(&state), request.now)))
    }
}

#[async_trait]
impl QueueStore for DbQueueStore {
    async fn issue(&self, request: IssueRequest) -> Result<(QueueTicket, bool), DomainError> {
        let (user_id, concert_id, now_ms) =
            (request.user_id.0, request.concert_id.0, to_ms(request.now));
        // Two tries: the second only after losing a race with the same user's other request.
        for _ in 0..2 {
            if let Some(live) = self.live_token(user_id, concert_id, now_ms).await? {
                let state = self.state(concert_id).await?;
                return Ok((ticket(live, state.as_ref(), request.now), false));
            }
            if let Some(issued) = self.issue_new(&request).await? {
                return Ok((issued, true));
            }
        }
        Err(DomainError::ConcurrentModification)
    }

    async fn find(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<QueueTicket>, DomainError> {
        let Some(found) = queue_token::Entity::find()
            .filter(queue_token::Column::Token.eq(token))
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let state = if found.status == WAITING {
            self.state(found.concert_id).await?
        } else {
            None
        };
        Ok(Some(ticket(found, state.as_ref(), now)))
    }

    async fn admit(
        &self,
        concert_id: ConcertId,
        policy: QueuePolicy,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let (concert_id, now_ms) = (concert_id.0, to_ms(now));
        let txn = self.db.begin().await.map_err(db_err)?;
        let state = lock_state(&txn, concert_id).await?;
        queue_token::Entity::update_many()
            .col_expr(queue_token::Column::Status, Expr::value(EXPIRED))
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Status.eq(ACTIVE))
            .filter(queue_token::Column::ExpiresAtMs.lte(now_ms))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let room = policy.room(count_active(&txn, concert_id, now_ms).await?);
        let waiting = (state.issued_seq - state.admitted_seq).max(0) as u64;
        let admitted = room.min(waiting) as i64;
        let next = state.admitted_seq + admitted;
        if admitted > 0 {
            let updated = queue_token::Entity::update_many()
                .col_expr(queue_token::Column::Status, Expr::value(ACTIVE))
                .col_expr(
                    queue_token::Column::ExpiresAtMs,
                    Expr::value(to_ms(now + policy.active_ttl)),
                )
                .filter(queue_token::Column::ConcertId.eq(concert_id))
                .filter(queue_token::Column::Seq.gt(state.admitted_seq))
                .filter(queue_token::Column::Seq.lte(next))
                .filter(queue_token::Column::Status.eq(WAITING))
                .exec(&txn)
                .await
                .map_err(db_err)?;
            if updated.rows_affected != admitted as u64 {
                // The line's bookkeeping disagrees with its rows: admit nothing rather than guess.
                return Err(DomainError::Internal(format!(
                    "queue of concert {concert_id}: expected {admitted} WAITING tokens, found {}",
                    updated.rows_affected
                )));
            }
        }
        let mut update = queue_state::Entity::update_many()
            .col_expr(queue_state::Column::AdmittedSeq, Expr::value(next))
            .filter(queue_state::Column::ConcertId.eq(concert_id));
        let elapsed_ms = now_ms - state.rate_anchor_at_ms;
        if elapsed_ms >= RATE_WINDOW_MS {
            let rate = (next - state.rate_anchor_seq).max(0) * 1_000_000 / elapsed_ms;
            update = update
                .col_expr(queue_state::Column::RateMilliPerSec, Expr::value(rate))
                .col_expr(queue_state::Column::RateAnchorAtMs, Expr::value(now_ms))
                .col_expr(queue_state::Column::RateAnchorSeq, Expr::value(next));
        }
        update.exec(&txn).await.map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(admitted as u64)
    }

    async fn waiting_lines(&self) -> Result<Vec<QueueLine>, DomainError> {
        let rows: Vec<(i64, i64, i64)> = queue_state::Entity::find()
            .select_only()
            .column(queue_state::Column::ConcertId)
            .column(queue_state::Column::IssuedSeq)
            .column(queue_state::Column::AdmittedSeq)
            .filter(
                Expr::col(queue_state::Column::IssuedSeq)
                    .gt(Expr::col(queue_state::Column::AdmittedSeq)),
            )
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(concert_id, issued, admitted)| QueueLine {
                concert_id: ConcertId(concert_id),
                waiting: (issued - admitted) as u64,
            })
            .collect())
    }

    async fn expire_active(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        expire_active_token(&self.db, user_id, concert_id, now).await
    }
}

/// Ends the user's ACTIVE window for the concert; also used inside the payment transaction.
pub(crate) async fn expire_active_token(
    db: &impl ConnectionTrait,
    user_id: UserId,
    concert_id: ConcertId,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    queue_token::Entity::update_many()
        .col_expr(queue_token::Column::Status, Expr::value(EXPIRED))
        .col_expr(queue_token::Column::ExpiresAtMs, Expr::value(to_ms(now)))
        .filter(queue_token::Column::UserId.eq(user_id.0))
        .filter(queue_token::Column::ConcertId.eq(concert_id.0))
        .filter(queue_token::Column::Status.eq(ACTIVE))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}
