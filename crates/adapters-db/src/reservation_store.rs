//! Seat holds. Lock order in every transaction: user, then seat, then
//! reservation; the payment store follows it too, so they cannot deadlock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::ReservationStore;
use domain::reservation::{NewHold, Reservation, ReservationStatus};
use domain::{
    ConcertId, DomainError, Page, PageRequest, ReservationId, ScheduleId, SeatId, StoreError,
    UserId, Won,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::concert_repository::takeable_at;
use crate::entity::{reservation, seat, user, waitlist_entry};
use crate::error::{db_err, is_unique_violation};
use crate::time::{from_ms, to_ms};
use crate::waitlist_handover::{free_seat, Ending, HandOver};
use crate::SeatMapCache;

/// Reservations and the seat changes they make, in one transaction each.
pub struct DbReservationStore {
    pub db: DatabaseConnection,
    /// Told after every seat change, so this instance reads its own writes.
    pub seat_maps: Arc<SeatMapCache>,
    /// How a freed seat is offered to the waiting list.
    pub hand_over: HandOver,
}

impl TryFrom<reservation::Model> for Reservation {
    type Error = StoreError;

    fn try_from(m: reservation::Model) -> Result<Self, StoreError> {
        Ok(Reservation {
            id: ReservationId(m.id),
            user_id: UserId(m.user_id),
            concert_id: ConcertId(m.concert_id),
            schedule_id: ScheduleId(m.schedule_id),
            seat_id: SeatId(m.seat_id),
            seat_number: m.seat_number as u32,
            seat_version: m.seat_version,
            price: Won::new(m.price)?,
            status: m.status.parse()?,
            expires_at: from_ms(m.expires_at_ms),
            created_at: from_ms(m.created_at_ms),
            offer: m.origin == "OFFER",
        })
    }
}

pub(crate) async fn count_live_holds(
    db: &impl ConnectionTrait,
    user_id: i64,
    now_ms: i64,
) -> Result<u32, DomainError> {
    let n = reservation::Entity::find()
        .filter(reservation::Column::UserId.eq(user_id))
        .filter(reservation::Column::Status.eq("HELD"))
        .filter(reservation::Column::ExpiresAtMs.gt(now_ms))
        .count(db)
        .await
        .map_err(db_err)?;
    Ok(n as u32)
}

/// Seats of `concert_id` the user owns at `now_ms`: unexpired HELD holds and
/// CONFIRMED (paid, unrefunded) reservations over all its schedules. Every
/// other status (EXPIRED, CANCELLED, REFUNDED) owns nothing. Call it under the
/// user's lock (see [`lock_user`]) when the answer decides a write.
pub(crate) async fn owned_tickets(
    db: &impl ConnectionTrait,
    user_id: UserId,
    concert_id: ConcertId,
    now: DateTime<Utc>,
) -> Result<u64, DomainError> {
    reservation::Entity::find()
        .filter(reservation::Column::UserId.eq(user_id.0))
        .filter(reservation::Column::ConcertId.eq(concert_id.0))
        .filter(
            Condition::any()
                .add(reservation::Column::Status.eq("CONFIRMED"))
                .add(
                    Condition::all()
                        .add(reservation::Column::Status.eq("HELD"))
                        .add(reservation::Column::ExpiresAtMs.gt(to_ms(now))),
                ),
        )
        .count(db)
        .await
        .map_err(db_err)
}

/// A no-op write that locks the user's row for the rest of the transaction:
/// one user's holds take turns, so racing requests cannot both pass a limit.
pub(crate) async fn lock_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(
            user::Column::CreatedAtMs,
            Expr::col(user::Column::CreatedAtMs).into(),
        )
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// What the store's conditional write did with a hold.
enum Taken {
    /// Inserted as this reservation id.
    Held(i64),
    /// Nothing written; the counts the write saw, for the domain to say why.
    Refused { live_holds: u64, owned: u64 },
}

/// The reservation the store just wrote for `hold`.
fn held(hold: &NewHold, id: i64) -> Reservation {
    Reservation {
        id: ReservationId(id),
        user_id: hold.user_id,
        concert_id: hold.concert_id,
        schedule_id: hold.schedule_id,
        seat_id: hold.seat_id,
        seat_number: hold.seat_number,
        seat_version: hold.seat_version + 1,
        price: hold.price,
        status: ReservationStatus::Held,
        expires_at: hold.expires_at,
        created_at: hold.now,
        offer: false,
    }
}

/// The hold on PostgreSQL in ONE round trip: a simple-protocol query of two
/// statements, which PostgreSQL runs as one implicit transaction. The first
/// locks the user's row; the second, with a snapshot taken under that lock,
/// is one statement that counts the user's live holds and owned seats, takes
/// the seat only if its version is the one decided on, it is takeable and
/// both limits have room, writes down a lapsed previous hold (and its offer),
/// and inserts the reservation. Every value is an integer formatted by Rust
/// (no text from a request reaches the SQL), so no parameters are needed.
async fn hold_postgres(db: &DatabaseConnection, hold: &NewHold) -> Result<Taken, DomainError> {
    use sea_orm::sqlx::{self, Row};
    let (now, expires) = (to_ms(hold.now), to_ms(hold.expires_at));
    let (user, concert, schedule, seat) = (
        hold.user_id.0,
        hold.concert_id.0,
        hold.schedule_id.0,
        hold.seat_id.0,
    );
    let (version, number, price) = (hold.seat_version, hold.seat_number, hold.price.value());
    let (max_holds, max_tickets) = (hold.max_holds_per_user, hold.sale.max_tickets_per_user);
    // Prepared statements (sqlx caches them per connection), so PostgreSQL
    // plans the CTE once per connection rather than on every hold: written
    // out with literal values, planning alone cost ~1.5 ms of a hold. The
    // user's row lock comes first, in its own statement, so the counts below
    // see every hold of this user committed before it (READ COMMITTED takes a
    // snapshot per statement).
    const HOLD: &str = "WITH counts AS (
  SELECT (SELECT count(*) FROM reservations
           WHERE user_id = $1 AND status = 'HELD' AND expires_at_ms > $5) AS live_holds,
         (SELECT count(*) FROM reservations
           WHERE user_id = $1 AND concert_id = $2
             AND (status = 'CONFIRMED' OR (status = 'HELD' AND expires_at_ms > $5))) AS owned),
taken AS (
  UPDATE seats SET status = 'HELD', hold_expires_at_ms = $6, version = $7 + 1
   WHERE id = $4 AND version = $7
     AND (status = 'AVAILABLE'
          OR (status = 'HELD' AND hold_expires_at_ms <= $5
              AND NOT EXISTS (SELECT 1 FROM waitlist_entries w
                               WHERE w.schedule_id = seats.schedule_id AND w.status = 'WAITING')))
     AND (SELECT live_holds FROM counts) < $10
     AND (SELECT owned FROM counts) < $11
  RETURNING id),
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
  SELECT $1, $2, $3, id, $8, $7 + 1, $9, 'HELD', $6, $5, 'HOLD'
    FROM taken
   -- The lapsed hold is written down first, so the unique index on live
   -- holds admits the new one.
   WHERE (SELECT count(*) FROM lapsed) >= 0
  RETURNING id)
SELECT (SELECT id FROM created) AS id, live_holds, owned FROM counts";
    let to_db = |e: sqlx::Error| {
        let e = sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e));
        if is_unique_violation(&e) {
            DomainError::SeatUnavailable {
                seat_number: hold.seat_number,
            }
        } else {
            db_err(e)
        }
    };
    let pool = db.get_postgres_connection_pool();
    let mut txn = pool.begin().await.map_err(to_db)?;
    sqlx::query("SELECT FROM users WHERE id = $1 FOR UPDATE")
        .bind(user)
        .execute(&mut *txn)
        .await
        .map_err(to_db)?;
    let answer = sqlx::query(HOLD)
        .bind(user)
        .bind(concert)
        .bind(schedule)
        .bind(seat)
        .bind(now)
        .bind(expires)
        .bind(version)
        .bind(i32::try_from(number).map_err(StoreError::internal)?)
        .bind(price)
        .bind(i64::from(max_holds))
        .bind(i64::from(max_tickets))
        .fetch_one(&mut *txn)
        .await
        .map_err(to_db)?;
    txn.commit().await.map_err(to_db)?;
    let field = |name: &str| -> Result<Option<i64>, DomainError> {
        answer
            .try_get::<Option<i64>, _>(name)
            .map_err(|e| db_err(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))))
    };
    Ok(match field("id")? {
        Some(id) => Taken::Held(id),
        None => Taken::Refused {
            live_holds: field("live_holds")?.unwrap_or(0) as u64,
            owned: field("owned")?.unwrap_or(0) as u64,
        },
    })
}

/// The hold in the smallest transaction that keeps the guarantees where
/// statements cannot modify data in a CTE (SQLite, whose one connection
/// serialises writers anyway): the user's lock, the two counts, the seat's
/// conditional update, a lapsed previous hold written down, the insert.
async fn hold_in_transaction(
    db: &DatabaseConnection,
    hold: &NewHold,
) -> Result<Taken, DomainError> {
    let now_ms = to_ms(hold.now);
    let txn = db.begin().await.map_err(db_err)?;
    lock_user(&txn, hold.user_id).await?;
    let live_holds = u64::from(count_live_holds(&txn, hold.user_id.0, now_ms).await?);
    let owned = owned_tickets(&txn, hold.user_id, hold.concert_id, hold.now).await?;
    let refused = Taken::Refused { live_holds, owned };
    if hold.ensure_room(live_holds, owned).is_err() {
        return Ok(refused);
    }
    let seat_version = hold.seat_version + 1;
    let taken = seat::Entity::update_many()
        .col_expr(seat::Column::Status, Expr::value("HELD"))
        .col_expr(
            seat::Column::HoldExpiresAtMs,
            Expr::value(to_ms(hold.expires_at)),
        )
        .col_expr(seat::Column::Version, Expr::value(seat_version))
        .filter(seat::Column::Id.eq(hold.seat_id.0))
        .filter(seat::Column::Version.eq(hold.seat_version))
        .filter(takeable_at(now_ms))
        .exec(&txn)
        .await
        .map_err(db_err)?;
    if taken.rows_affected == 0 {
        return Ok(refused);
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
        seat_number: Set(hold.seat_number as i32),
        seat_version: Set(seat_version),
        price: Set(hold.price.value()),
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
                seat_number: hold.seat_number,
            }
        } else {
            db_err(e)
        }
    })?;
    txn.commit().await.map_err(db_err)?;
    Ok(Taken::Held(created.id))
}

impl DbReservationStore {
    /// Ends one lapsed hold and frees its seat (to the waiting list first), in
    /// its own small transaction. Every write is conditional, so sweepers in
    /// several instances never double-apply.
    async fn lapse(&self, r: &reservation::Model, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let freed = free_seat(&txn, &self.hand_over, r, r.seat_version, Ending::Lapse, now).await?;
        txn.commit().await.map_err(db_err)?;
        self.seat_maps.invalidate(r.schedule_id);
        Ok(freed.reservation_rows)
    }

    /// Lapses the seat's lapsed hold now, if it has one.
    async fn lapse_seat(&self, seat_id: SeatId, now: DateTime<Utc>) -> Result<(), DomainError> {
        let lapsed = reservation::Entity::find()
            .filter(reservation::Column::SeatId.eq(seat_id.0))
            .filter(reservation::Column::Status.eq("HELD"))
            .filter(reservation::Column::ExpiresAtMs.lte(to_ms(now)))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if let Some(r) = lapsed {
            self.lapse(&r, now).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ReservationStore for DbReservationStore {
    async fn hold(&self, hold: &NewHold) -> Result<Reservation, DomainError> {
        let taken = if self.db.get_database_backend() == DbBackend::Postgres {
            hold_postgres(&self.db, hold).await?
        } else {
            hold_in_transaction(&self.db, hold).await?
        };
        match taken {
            Taken::Held(id) => {
                self.seat_maps.invalidate(hold.schedule_id.0);
                Ok(held(hold, id))
            }
            Taken::Refused { live_holds, owned } => {
                hold.ensure_room(live_holds, owned)?;
                // A lapsed hold the waiting list waits for is handed over at use.
                self.lapse_seat(hold.seat_id, hold.now).await?;
                Err(DomainError::SeatUnavailable {
                    seat_number: hold.seat_number,
                })
            }
        }
    }

    async fn live_holds(&self, user_id: UserId, now: DateTime<Utc>) -> Result<u32, DomainError> {
        count_live_holds(&self.db, user_id.0, to_ms(now)).await
    }

    async fn list_of(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<Reservation>, DomainError> {
        let mut query =
            reservation::Entity::find().filter(reservation::Column::UserId.eq(user_id.0));
        if let Some(after) = page.after() {
            query = query.filter(reservation::Column::Id.lt(after));
        }
        let rows = query
            .order_by_desc(reservation::Column::Id)
            .limit(page.fetch())
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(Page::from_rows(rows, page, |m| m.id).try_map(Reservation::try_from)?)
    }

    async fn find(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        let row = reservation::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(row.map(Reservation::try_from).transpose()?)
    }

    async fn cancel(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, DomainError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let row = reservation::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| DomainError::not_found(format!("reservation {id}")))?;
        let current = Reservation::try_from(row.clone())?;
        current.ensure_cancellable(now)?;
        let freed = free_seat(
            &txn,
            &self.hand_over,
            &row,
            row.seat_version,
            Ending::Cancel,
            now,
        )
        .await?;
        if freed.reservation_rows == 0 {
            // Paid or lapsed between our read and our write: not cancellable any more.
            let status = match current.status_at(now) {
                ReservationStatus::Held => ReservationStatus::Confirmed,
                other => other,
            };
            return Err(DomainError::ReservationNotCancellable(status));
        }
        txn.commit().await.map_err(db_err)?;
        self.seat_maps.invalidate(current.schedule_id.0);
        Ok(Reservation {
            status: ReservationStatus::Cancelled,
            ..current
        })
    }

    async fn expire_lapsed(&self, now: DateTime<Utc>, limit: u64) -> Result<u64, DomainError> {
        let now_ms = to_ms(now);
        let lapsed = reservation::Entity::find()
            .filter(reservation::Column::Status.eq("HELD"))
            .filter(reservation::Column::ExpiresAtMs.lte(now_ms))
            .order_by_asc(reservation::Column::ExpiresAtMs)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut expired = 0;
        for r in lapsed {
            expired += self.lapse(&r, now).await?;
        }
        Ok(expired)
    }
}
