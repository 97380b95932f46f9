//! The hold's write: one autocommitted statement on PostgreSQL, one
//! transaction on SQLite. Either reads the seat, the caller's queue token
//! (with [`Admission::InWrite`]) and the user's two counts, and takes the
//! seat only if all of them allow it; when it does not, it answers with what
//! it saw, and the domain ([`NewHold::refusal`]) names the refusal.
//!
//! The limits are a count followed by an insert, so one user's holds must
//! not both count before either inserts. A transaction locks the user's row
//! before it counts (SQLite's first write locks the whole database). One
//! READ COMMITTED statement cannot: its snapshot is taken before any lock
//! wait. So it bumps `users.version` on the condition that it still holds the
//! value read in that snapshot, and takes the seat only if the bump did.
//! Every write that can add to a user's holds or tickets bumps the same
//! version (this hold, and [`crate::reservation_store::lock_user`] for the
//! waiting list's offers). A writer that committed after our snapshot has
//! moved it: PostgreSQL re-checks an UPDATE's WHERE on the newest row
//! version after waiting for its lock, so our bump matches no row, we write
//! nothing, and the caller retries with a fresh snapshot
//! ([`Taken::Overtaken`]). A writer still running holds the row's lock and
//! ends the same way for whichever of us waits. So when the bump succeeds, no
//! write our counts missed can exist, and the limits hold exactly.

use domain::queue::{admitted, Admission};
use domain::reservation::{HoldSeen, NewHold};
use domain::seat::{Seat, SeatStatus};
use domain::DomainError;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};

use crate::concert_repository::takeable_at;
use crate::entity::{queue_token, reservation, seat, waitlist_entry};
use crate::error::{db_err, is_unique_violation};
use crate::queue_store::status_at;
use crate::reservation_store::{count_live_holds, lock_user, owned_tickets};
use crate::time::to_ms;

/// What the hold's write did.
pub(crate) enum Taken {
    /// Inserted as reservation `id`, on `seat` as it was before the write.
    Held { id: i64, seat: Seat },
    /// Nothing written; what the write saw, for the domain to say why.
    Refused(HoldSeen),
    /// Nothing written: another write of this user's holds committed after
    /// the statement's snapshot, so its counts may be stale. Retry afresh.
    Overtaken,
}

/// The backstop: the unique index on live holds refused a second one for
/// the seat, so it is someone else's. Only a race the version checks failed
/// to stop ends here; its number is read again for the error.
async fn refused_by_the_index(db: &DatabaseConnection, hold: &NewHold) -> DomainError {
    match seat::Entity::find_by_id(hold.seat_id.0).one(db).await {
        Ok(Some(seat)) => DomainError::SeatUnavailable {
            seat_number: seat.seat_number as u32,
        },
        Ok(None) => DomainError::not_found(format!("seat {}", hold.seat_id)),
        Err(e) => db_err(e),
    }
}

/// The caller's admission from the token row the write saw, if it had to look.
fn admission_seen(
    admission: Admission<'_>,
    token: Option<(String, Option<i64>)>,
    hold: &NewHold,
) -> Result<Result<(), DomainError>, DomainError> {
    Ok(match admission {
        Admission::Checked => Ok(()),
        Admission::InWrite(_) => admitted(
            token
                .map(|(status, expires)| status_at(&status, expires, hold.now))
                .transpose()?,
        ),
    })
}

/// The hold in ONE prepared, autocommitted statement (sqlx caches the
/// prepared statement per connection, so PostgreSQL plans it once per
/// connection). Every sub-statement sees the statement's one snapshot: the
/// seat, the token and the counts are read in it, the user's version is
/// bumped only if all of them allow the hold and the version is still the one
/// read (see the module comment), and the seat is taken only if the bump
/// succeeded and its version is still the one read. A lapsed previous hold
/// of the seat (and its offer) is written down first, so the unique index on
/// live holds admits the new one.
const HOLD: &str = "WITH seat AS (
  SELECT schedule_id, seat_number, price, status, hold_expires_at_ms, version
    FROM seats WHERE id = $4),
tok AS (
  SELECT status, expires_at_ms FROM queue_tokens
   WHERE token = $9 AND user_id = $1 AND concert_id = $2),
usr AS (SELECT version FROM users WHERE id = $1),
counts AS (
  SELECT (SELECT count(*) FROM reservations
           WHERE user_id = $1 AND status = 'HELD' AND expires_at_ms > $5) AS live_holds,
         (SELECT count(*) FROM reservations
           WHERE user_id = $1 AND concert_id = $2
             AND (status = 'CONFIRMED' OR (status = 'HELD' AND expires_at_ms > $5))) AS owned),
wanted AS (
  SELECT ($9::text IS NULL
          OR EXISTS (SELECT 1 FROM tok WHERE status = 'ACTIVE' AND expires_at_ms > $5))
     AND EXISTS (SELECT 1 FROM seat s
                  WHERE s.schedule_id = $3
                    AND (s.status = 'AVAILABLE'
                         OR (s.status = 'HELD' AND s.hold_expires_at_ms <= $5
                             AND NOT EXISTS (SELECT 1 FROM waitlist_entries w
                                              WHERE w.schedule_id = s.schedule_id
                                                AND w.status = 'WAITING'))))
     AND live_holds < $7 AND owned < $8 AS ok
    FROM counts),
bumped AS (
  UPDATE users SET version = version + 1
   WHERE id = $1 AND version = (SELECT version FROM usr) AND (SELECT ok FROM wanted)
  RETURNING id),
taken AS (
  UPDATE seats SET status = 'HELD', hold_expires_at_ms = $6, version = version + 1
   WHERE id = $4 AND version = (SELECT version FROM seat) AND EXISTS (SELECT 1 FROM bumped)
  RETURNING id, seat_number, price, version),
lapsed AS (
  UPDATE reservations SET status = 'EXPIRED'
   WHERE seat_id IN (SELECT id FROM taken) AND status = 'HELD' AND expires_at_ms <= $5
  RETURNING id),
lapsed_offers AS (
  UPDATE waitlist_entries SET status = 'LAPSED'
   WHERE reservation_id IN (SELECT id FROM lapsed) AND status = 'OFFERED'),
created AS (
  INSERT INTO reservations (user_id, concert_id, schedule_id, seat_id, seat_number,
                            seat_version, price, status, expires_at_ms, created_at_ms, origin)
  SELECT $1, $2, $3, id, seat_number, version, price, 'HELD', $6, $5, 'HOLD'
    FROM taken
   -- The lapsed hold is written down first, so the unique index on live
   -- holds admits the new one.
   WHERE (SELECT count(*) FROM lapsed) >= 0
  RETURNING id)
SELECT (SELECT id FROM created) AS id,
       s.schedule_id, s.seat_number, s.price, s.status AS seat_status,
       s.hold_expires_at_ms, s.version AS seat_version,
       t.status AS token_status, t.expires_at_ms AS token_expires_at_ms,
       c.live_holds, c.owned, w.ok AS wanted, EXISTS (SELECT 1 FROM bumped) AS bumped
  FROM counts c CROSS JOIN wanted w LEFT JOIN seat s ON true LEFT JOIN tok t ON true";

pub(crate) async fn hold_postgres(
    db: &DatabaseConnection,
    hold: &NewHold,
    admission: Admission<'_>,
) -> Result<Taken, DomainError> {
    use sea_orm::sqlx::{self, Row};
    let sqlx_err = |e: sqlx::Error| sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e));
    let token = match admission {
        Admission::Checked => None,
        Admission::InWrite(token) => Some(token),
    };
    let answer = sqlx::query(HOLD)
        .bind(hold.user_id.0)
        .bind(hold.concert_id.0)
        .bind(hold.schedule_id.0)
        .bind(hold.seat_id.0)
        .bind(to_ms(hold.now))
        .bind(to_ms(hold.expires_at))
        .bind(i64::from(hold.max_holds_per_user))
        .bind(i64::from(hold.sale.max_tickets_per_user))
        .bind(token)
        .fetch_one(db.get_postgres_connection_pool())
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            let e = sqlx_err(e);
            return Err(if is_unique_violation(&e) {
                refused_by_the_index(db, hold).await
            } else {
                db_err(e)
            });
        }
    };
    let get = |name: &str| -> Result<Option<i64>, DomainError> {
        answer
            .try_get::<Option<i64>, _>(name)
            .map_err(|e| db_err(sqlx_err(e)))
    };
    let text = |name: &str| -> Result<Option<String>, DomainError> {
        answer
            .try_get::<Option<String>, _>(name)
            .map_err(|e| db_err(sqlx_err(e)))
    };
    let flag = |name: &str| -> Result<bool, DomainError> {
        answer
            .try_get::<Option<bool>, _>(name)
            .map(|b| b.unwrap_or(false))
            .map_err(|e| db_err(sqlx_err(e)))
    };
    let seat = match (get("schedule_id")?, text("seat_status")?) {
        (Some(schedule_id), Some(status)) => Some(Seat::try_from(seat::Model {
            id: hold.seat_id.0,
            schedule_id,
            seat_number: answer
                .try_get::<Option<i32>, _>("seat_number")
                .map_err(|e| db_err(sqlx_err(e)))?
                .unwrap_or_default(),
            price: get("price")?.unwrap_or_default(),
            status,
            hold_expires_at_ms: get("hold_expires_at_ms")?,
            version: get("seat_version")?.unwrap_or_default(),
        })?),
        _ => None,
    };
    if let (Some(id), Some(seat)) = (get("id")?, &seat) {
        return Ok(Taken::Held {
            id,
            seat: seat.clone(),
        });
    }
    if flag("wanted")? && !flag("bumped")? {
        return Ok(Taken::Overtaken);
    }
    let token = match text("token_status")? {
        Some(status) => Some((status, get("token_expires_at_ms")?)),
        None => None,
    };
    Ok(Taken::Refused(HoldSeen {
        seat,
        admission: admission_seen(admission, token, hold)?,
        live_holds: get("live_holds")?.unwrap_or(0) as u64,
        owned: get("owned")?.unwrap_or(0) as u64,
    }))
}

/// The hold in the smallest transaction that keeps the guarantees where
/// statements cannot modify data in a CTE (SQLite, whose one connection
/// serialises writers anyway): the user's lock (bumping its version, as
/// every such lock does), the seat, the token and the two counts, the seat's
/// conditional update, a lapsed previous hold written down, the insert.
pub(crate) async fn hold_in_transaction(
    db: &DatabaseConnection,
    hold: &NewHold,
    admission: Admission<'_>,
) -> Result<Taken, DomainError> {
    let now_ms = to_ms(hold.now);
    let txn = db.begin().await.map_err(db_err)?;
    lock_user(&txn, hold.user_id).await?;
    let seat = seat::Entity::find_by_id(hold.seat_id.0)
        .one(&txn)
        .await
        .map_err(db_err)?
        .map(Seat::try_from)
        .transpose()?;
    let token = match admission {
        Admission::Checked => None,
        Admission::InWrite(token) => queue_token::Entity::find()
            .filter(queue_token::Column::Token.eq(token))
            .filter(queue_token::Column::UserId.eq(hold.user_id.0))
            .filter(queue_token::Column::ConcertId.eq(hold.concert_id.0))
            .one(&txn)
            .await
            .map_err(db_err)?
            .map(|t| (t.status, t.expires_at_ms)),
    };
    let live_holds = u64::from(count_live_holds(&txn, hold.user_id.0, now_ms).await?);
    let owned = owned_tickets(&txn, hold.user_id, hold.concert_id, hold.now).await?;
    let seen = HoldSeen {
        seat,
        admission: admission_seen(admission, token, hold)?,
        live_holds,
        owned,
    };
    let Some(seat) = seen
        .seat
        .clone()
        .filter(|s| s.schedule_id == hold.schedule_id)
        .filter(|s| s.status_at(hold.now) == SeatStatus::Available)
        .filter(|_| seen.admission.is_ok() && hold.ensure_room(live_holds, owned).is_ok())
    else {
        return Ok(Taken::Refused(seen));
    };
    let taken = seat::Entity::update_many()
        .col_expr(seat::Column::Status, Expr::value("HELD"))
        .col_expr(
            seat::Column::HoldExpiresAtMs,
            Expr::value(to_ms(hold.expires_at)),
        )
        .col_expr(seat::Column::Version, Expr::value(seat.version + 1))
        .filter(seat::Column::Id.eq(hold.seat_id.0))
        .filter(seat::Column::Version.eq(seat.version))
        .filter(takeable_at(now_ms))
        .exec(&txn)
        .await
        .map_err(db_err)?;
    if taken.rows_affected == 0 {
        return Ok(Taken::Refused(seen));
    }
    // The seat's previous hold lapsed: write it down so the unique index on
    // live holds admits the new one (a lapsed offer ends its entry too).
    let lapsed: Vec<i64> = reservation::Entity::find()
        .select_only()
        .column(reservation::Column::Id)
        .filter(reservation::Column::SeatId.eq(hold.seat_id.0))
        .filter(reservation::Column::Status.eq("HELD"))
        .filter(reservation::Column::ExpiresAtMs.lte(now_ms))
        .into_tuple()
        .all(&txn)
        .await
        .map_err(db_err)?;
    if !lapsed.is_empty() {
        reservation::Entity::update_many()
            .col_expr(reservation::Column::Status, Expr::value("EXPIRED"))
            .filter(reservation::Column::Id.is_in(lapsed.clone()))
            .filter(reservation::Column::Status.eq("HELD"))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("LAPSED"))
            .filter(waitlist_entry::Column::ReservationId.is_in(lapsed))
            .filter(waitlist_entry::Column::Status.eq("OFFERED"))
            .exec(&txn)
            .await
            .map_err(db_err)?;
    }
    let created = reservation::ActiveModel {
        user_id: Set(hold.user_id.0),
        concert_id: Set(hold.concert_id.0),
        schedule_id: Set(hold.schedule_id.0),
        seat_id: Set(hold.seat_id.0),
        seat_number: Set(seat.seat_number as i32),
        seat_version: Set(seat.version + 1),
        price: Set(seat.price.value()),
        status: Set("HELD".into()),
        expires_at_ms: Set(to_ms(hold.expires_at)),
        created_at_ms: Set(now_ms),
        origin: Set("HOLD".into()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            DomainError::SeatUnavailable {
                seat_number: seat.seat_number,
            }
        } else {
            db_err(e)
        }
    })?;
    txn.commit().await.map_err(db_err)?;
    Ok(Taken::Held {
        id: created.id,
        seat,
    })
}
