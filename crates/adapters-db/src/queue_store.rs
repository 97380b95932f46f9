//! The waiting queue in the database.
//!
//! Each concert has one `queue_states` row: `issued_seq` counts tokens issued,
//! `admitted_seq` how many of them have been admitted. Admission is strictly in
//! `seq` order, and a WAITING token only ever leaves the line by admission, so
//! the WAITING tokens are exactly those with `admitted_seq < seq <= issued_seq`
//! and a position is `seq - admitted_seq`: two primary-key reads, whatever the
//! length of the line.
//!
//! Before a concert's sale opens, joiners get PREQUEUE tokens: they take
//! issue numbers like everyone, and `prequeued` counts them. While it is not
//! zero nobody is admitted. The opening ([`DbQueueStore::open_sale`]) is one
//! transaction under the line's lock: it gives the pre-queue, in the drawn
//! order, and then every later token, in issue order, fresh numbers after
//! `issued_seq`, and moves `admitted_seq` up to just before them. So the
//! `seq - admitted_seq` positions stay exact, and a crash leaves either the
//! whole pre-queue or the whole drawn line.
//!
//! Every change that can add an ACTIVE token starts its transaction by
//! updating that row. On PostgreSQL the update takes the row lock, so issuers
//! and admitters of one concert, in every instance, take turns; on SQLite the
//! first write takes the database's write lock. Under the lock, the count of
//! ACTIVE tokens is current, so the cap holds. Expiry only lowers the count and
//! needs no lock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{IssueRequest, QueueStore, RandomSource};
use domain::queue::{
    draw_line_order, AdmissionRate, QueueControls, QueueControlsPatch, QueueCounts, QueueLine,
    QueueOverview, QueuePolicy, QueueStatus, QueueTicket, QueueToken,
};
use domain::{ConcertId, DomainError, StoreError, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IsolationLevel, NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait,
};

use crate::entity::{queue_state, queue_token};
use crate::error::{db_err, is_unique_violation};
use crate::queue_join::admitting_join;
use crate::time::{from_ms, to_ms};

const PREQUEUE: &str = "PREQUEUE";
const WAITING: &str = "WAITING";
const ACTIVE: &str = "ACTIVE";
const EXPIRED: &str = "EXPIRED";

/// How often the observed admission rate is re-measured.
const RATE_WINDOW_MS: i64 = 10_000;

/// Tokens renumbered per statement at the opening.
const RENUMBER_BATCH: usize = 500;

/// The admin's controls as stored on the line's row.
fn controls(state: &queue_state::Model) -> QueueControls {
    QueueControls {
        paused: state.paused,
        max_active: state
            .max_active
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0),
    }
}

/// WAITING tokens: every number issued and not admitted, minus the pre-queue.
fn waiting_of(state: &queue_state::Model) -> u64 {
    (state.issued_seq - state.admitted_seq - state.prequeued).max(0) as u64
}

/// What a one-statement join did, when it applied.
enum RushJoin {
    Issued(QueueTicket),
    /// The unique index refused a second live token: the same user's other request won.
    LostToSelf,
}

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

/// A stored token's status at `now`: an ACTIVE token whose window has
/// ended is EXPIRED, swept or not.
pub(crate) fn status_at(
    stored: &str,
    expires_at_ms: Option<i64>,
    now: DateTime<Utc>,
) -> Result<QueueStatus, StoreError> {
    Ok(match stored.parse()? {
        QueueStatus::Active if expires_at_ms.is_none_or(|at| from_ms(at) <= now) => {
            QueueStatus::Expired
        }
        status => status,
    })
}

/// The ticket as it stands at `now` (an ACTIVE token whose window has ended is EXPIRED).
pub(crate) fn ticket(
    token: queue_token::Model,
    state: Option<&queue_state::Model>,
    now: DateTime<Utc>,
) -> Result<QueueTicket, StoreError> {
    let expires_at = token.expires_at_ms.map(from_ms);
    let status = status_at(&token.status, token.expires_at_ms, now)?;
    let (position, admission_rate) = match (status, state) {
        (QueueStatus::Waiting, Some(state)) => (
            (token.seq - state.admitted_seq).max(1) as u64,
            (state.rate_milli_per_sec > 0)
                .then(|| AdmissionRate(state.rate_milli_per_sec as f64 / 1000.0)),
        ),
        (QueueStatus::Waiting, None) => (1, None),
        _ => (0, None),
    };
    Ok(QueueTicket {
        token: QueueToken(token.token),
        user_id: UserId(token.user_id),
        concert_id: ConcertId(token.concert_id),
        status,
        position,
        expires_at,
        admission_rate,
    })
}

impl DbQueueStore {
    /// The user's live token for the concert, in one read when there is
    /// none (the rush case). A lapsed ACTIVE token still counts as live for
    /// the unique index: it is ended here, and `None` returned.
    async fn live_token(
        &self,
        user_id: i64,
        concert_id: i64,
        now_ms: i64,
    ) -> Result<Option<queue_token::Model>, DomainError> {
        let found = queue_token::Entity::find()
            .filter(queue_token::Column::UserId.eq(user_id))
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Status.is_in([PREQUEUE, WAITING, ACTIVE]))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        let lapsed = |t: &queue_token::Model| {
            t.status == ACTIVE && t.expires_at_ms.is_none_or(|end| end <= now_ms)
        };
        if !found.as_ref().is_some_and(lapsed) {
            return Ok(found);
        }
        queue_token::Entity::update_many()
            .col_expr(queue_token::Column::Status, Expr::value(EXPIRED))
            .filter(queue_token::Column::UserId.eq(user_id))
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Status.eq(ACTIVE))
            .filter(queue_token::Column::ExpiresAtMs.lte(now_ms))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(None)
    }

    /// Joins the back of a line that is not empty, on PostgreSQL, as ONE
    /// statement: the number is taken and the token inserted together, so
    /// the line's row lock is held for one statement and its commit rather
    /// than for three round trips, and a rush of joins passes it in turn
    /// that much faster. Nobody can be admitted on joining a non-empty line,
    /// so the cap needs no count here. `Ok(None)`: not applicable (the line
    /// is empty, or not drawn yet for a non-PREQUEUE join); the caller takes
    /// the general path. A unique violation (the same user's other request
    /// won) rolls the whole statement back, number included.
    async fn join_rush(&self, request: &IssueRequest) -> Result<Option<RushJoin>, DomainError> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(None);
        }
        let sql = r#"
WITH s AS (
  UPDATE queue_states
     SET issued_seq = issued_seq + 1,
         version = version + 1,
         prequeued = prequeued + CASE WHEN $4 AND opened_at_ms IS NULL THEN 1 ELSE 0 END
   WHERE concert_id = $1
     AND (($4 AND opened_at_ms IS NULL) OR admitted_seq < issued_seq)
  RETURNING issued_seq, admitted_seq, rate_milli_per_sec, opened_at_ms
), t AS (
  INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms)
  SELECT $2, $3, $1, s.issued_seq,
         CASE WHEN $4 AND s.opened_at_ms IS NULL THEN 'PREQUEUE' ELSE 'WAITING' END,
         $5, NULL
    FROM s
  RETURNING id, seq, status
)
SELECT t.id, t.seq, t.status, s.admitted_seq, s.rate_milli_per_sec FROM t, s"#;
        let statement = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            [
                request.concert_id.0.into(),
                request.new_token.0.clone().into(),
                request.user_id.0.into(),
                request.prequeue.into(),
                to_ms(request.now).into(),
            ],
        );
        let row = match self.db.query_one(statement).await {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => return Ok(Some(RushJoin::LostToSelf)),
            Err(e) => return Err(db_err(e)),
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let get = |column: &str| row.try_get::<i64>("", column).map_err(db_err);
        let token = queue_token::Model {
            id: get("id")?,
            token: request.new_token.0.clone(),
            user_id: request.user_id.0,
            concert_id: request.concert_id.0,
            seq: get("seq")?,
            status: row.try_get::<String>("", "status").map_err(db_err)?,
            issued_at_ms: to_ms(request.now),
            expires_at_ms: None,
        };
        let (admitted_seq, rate) = (get("admitted_seq")?, get("rate_milli_per_sec")?);
        let position = (token.seq - admitted_seq).max(1) as u64;
        let mut ticket = ticket(token, None, request.now)?;
        if ticket.status == QueueStatus::Waiting {
            ticket.position = position;
            ticket.admission_rate = (rate > 0).then(|| AdmissionRate(rate as f64 / 1000.0));
        }
        Ok(Some(RushJoin::Issued(ticket)))
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
        // Once the line is drawn, a late PREQUEUE request (an instance whose
        // clock lags) joins the back of the line instead.
        let prequeue = request.prequeue && state.opened_at_ms.is_none();
        // PREQUEUE tokens hold issue numbers too: while there are any, the
        // line is not empty and nobody is admitted here.
        let line_was_empty = state.admitted_seq == seq - 1;
        let controls = controls(&state);
        if !prequeue
            && line_was_empty
            && !controls.paused
            && self.db.get_database_backend() == DatabaseBackend::Postgres
        {
            let cap = controls.max_active(&request.policy);
            let joined = admitting_join(&txn, request, seq, cap).await;
            let token = match joined {
                Ok(token) => token,
                // The same user's other request won: roll back, seq included.
                Err(e) if is_unique_violation(&e) => return Ok(None),
                Err(e) => return Err(db_err(e)),
            };
            if token.status == ACTIVE {
                state.admitted_seq = seq;
            }
            txn.commit().await.map_err(db_err)?;
            return Ok(Some(ticket(token, Some(&state), request.now)?));
        }
        let admit_now = !prequeue
            && line_was_empty
            && controls.room(
                &request.policy,
                count_active(&txn, concert_id, now_ms).await?,
            ) > 0;
        let token = queue_token::Model {
            id: 0,
            token: request.new_token.0.clone(),
            user_id: request.user_id.0,
            concert_id,
            seq,
            status: if prequeue {
                PREQUEUE
            } else if admit_now {
                ACTIVE
            } else {
                WAITING
            }
            .to_owned(),
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
        if prequeue {
            state.prequeued += 1;
            queue_state::Entity::update_many()
                .col_expr(
                    queue_state::Column::Prequeued,
                    Expr::col(queue_state::Column::Prequeued).add(1),
                )
                .filter(queue_state::Column::ConcertId.eq(concert_id))
                .exec(&txn)
                .await
                .map_err(db_err)?;
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
        Ok(Some(ticket(token, Some(&state), request.now)?))
    }
}

#[async_trait]
impl QueueStore for DbQueueStore {
    /// The tokens share the database of seats and money.
    fn shared_with_writes(&self) -> bool {
        true
    }

    async fn issue(&self, request: IssueRequest) -> Result<(QueueTicket, bool), DomainError> {
        let (user_id, concert_id, now_ms) =
            (request.user_id.0, request.concert_id.0, to_ms(request.now));
        // Two tries: the second only after losing a race with the same user's other request.
        for _ in 0..2 {
            if let Some(live) = self.live_token(user_id, concert_id, now_ms).await? {
                let state = self.state(concert_id).await?;
                return Ok((ticket(live, state.as_ref(), request.now)?, false));
            }
            match self.join_rush(&request).await? {
                Some(RushJoin::Issued(issued)) => return Ok((issued, true)),
                Some(RushJoin::LostToSelf) => continue,
                None => {}
            }
            if let Some(issued) = self.issue_new(&request).await? {
                return Ok((issued, true));
            }
        }
        Err(DomainError::Store(StoreError::Conflict))
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
        Ok(Some(ticket(found, state.as_ref(), now)?))
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
        if state.prequeued > 0 {
            // Not drawn yet: nobody may pass the pre-queue.
            txn.commit().await.map_err(db_err)?;
            return Ok(0);
        }
        let room = controls(&state).room(&policy, count_active(&txn, concert_id, now_ms).await?);
        let waiting = waiting_of(&state);
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
                return Err(DomainError::Store(StoreError::internal(format!(
                    "queue of concert {concert_id}: expected {admitted} WAITING tokens, found {}",
                    updated.rows_affected
                ))));
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
        let rows: Vec<(i64, i64, i64, i64)> = queue_state::Entity::find()
            .select_only()
            .column(queue_state::Column::ConcertId)
            .column(queue_state::Column::IssuedSeq)
            .column(queue_state::Column::AdmittedSeq)
            .column(queue_state::Column::Prequeued)
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
            .map(|(concert_id, issued, admitted, prequeued)| QueueLine {
                concert_id: ConcertId(concert_id),
                waiting: (issued - admitted - prequeued).max(0) as u64,
                prequeued: prequeued.max(0) as u64,
            })
            .collect())
    }

    async fn open_sale(
        &self,
        concert_id: ConcertId,
        now: DateTime<Utc>,
        rng: Arc<dyn RandomSource>,
    ) -> Result<u64, DomainError> {
        let (concert_id, now_ms) = (concert_id.0, to_ms(now));
        let txn = self.db.begin().await.map_err(db_err)?;
        let state = lock_state(&txn, concert_id).await?;
        if state.prequeued == 0 {
            // Drawn already (by this or another instance), or nothing to draw.
            txn.commit().await.map_err(db_err)?;
            return Ok(0);
        }
        // Nobody is admitted while there is a pre-queue, so everything past
        // `admitted_seq` is PREQUEUE or WAITING: the whole line.
        let line: Vec<(i64, String)> = queue_token::Entity::find()
            .select_only()
            .column(queue_token::Column::Id)
            .column(queue_token::Column::Status)
            .filter(queue_token::Column::ConcertId.eq(concert_id))
            .filter(queue_token::Column::Seq.gt(state.admitted_seq))
            .order_by_asc(queue_token::Column::Seq)
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_err)?;
        let (prequeued, later): (Vec<_>, Vec<_>) =
            line.into_iter().partition(|(_, status)| status == PREQUEUE);
        let drawn = draw_line_order(
            prequeued.into_iter().map(|(id, _)| id).collect(),
            rng.as_ref(),
        );
        let count = drawn.len() as i64;
        let order: Vec<i64> = drawn
            .into_iter()
            .chain(later.into_iter().map(|(id, _)| id))
            .collect();
        // Fresh numbers after every number issued: no clash with the unique
        // (concert_id, seq) index whatever order the rows are written in.
        let base = state.issued_seq;
        for (chunk_index, chunk) in order.chunks(RENUMBER_BATCH).enumerate() {
            let first = base + 1 + (chunk_index * RENUMBER_BATCH) as i64;
            let cases: String = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| format!(" WHEN {id} THEN {}", first + i as i64))
                .collect();
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "UPDATE queue_tokens SET status = '{WAITING}', seq = CASE id{cases} END                  WHERE id IN ({})",
                ids.join(",")
            );
            let done = txn.execute_unprepared(&sql).await.map_err(db_err)?;
            if done.rows_affected() != chunk.len() as u64 {
                return Err(DomainError::Store(StoreError::internal(format!(
                    "queue of concert {concert_id}: renumbered {} of {} tokens",
                    done.rows_affected(),
                    chunk.len()
                ))));
            }
        }
        let issued = base + order.len() as i64;
        queue_state::Entity::update_many()
            .col_expr(queue_state::Column::IssuedSeq, Expr::value(issued))
            .col_expr(queue_state::Column::AdmittedSeq, Expr::value(base))
            .col_expr(queue_state::Column::Prequeued, Expr::value(0))
            .col_expr(queue_state::Column::OpenedAtMs, Expr::value(now_ms))
            .col_expr(queue_state::Column::RateAnchorAtMs, Expr::value(now_ms))
            .col_expr(queue_state::Column::RateAnchorSeq, Expr::value(base))
            .filter(queue_state::Column::ConcertId.eq(concert_id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(count as u64)
    }

    async fn control(
        &self,
        concert_id: ConcertId,
        patch: QueueControlsPatch,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, DomainError> {
        let (concert_id, now_ms) = (concert_id.0, to_ms(now));
        let read_only = patch == QueueControlsPatch::default();
        // A look without a change (the sales view) reads the line's row and its
        // ACTIVE count from one snapshot, so the counts agree with each other.
        // (SQLite's transactions are serializable already.)
        let txn = if read_only && self.db.get_database_backend() == DatabaseBackend::Postgres {
            self.db
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
        } else {
            self.db.begin().await
        }
        .map_err(db_err)?;
        if !read_only {
            let mut update = queue_state::Entity::update_many()
                .filter(queue_state::Column::ConcertId.eq(concert_id))
                .col_expr(
                    queue_state::Column::Version,
                    Expr::col(queue_state::Column::Version).add(1),
                );
            if let Some(paused) = patch.paused {
                update = update.col_expr(queue_state::Column::Paused, Expr::value(paused));
            }
            if let Some(max) = patch.max_active {
                update =
                    update.col_expr(queue_state::Column::MaxActive, Expr::value(i64::from(max)));
            }
            update.exec(&txn).await.map_err(db_err)?;
        }
        let state = queue_state::Entity::find_by_id(concert_id)
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| DomainError::not_found(format!("concert {concert_id}")))?;
        let active = count_active(&txn, concert_id, now_ms).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(QueueOverview {
            controls: controls(&state),
            counts: QueueCounts {
                prequeued: state.prequeued.max(0) as u64,
                waiting: waiting_of(&state),
                active,
            },
        })
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
