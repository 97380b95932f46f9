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
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
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
        let now_ms = to_ms(hold.now);
        let txn = self.db.begin().await.map_err(db_err)?;
        lock_user(&txn, hold.user_id).await?;
        if count_live_holds(&txn, hold.user_id.0, now_ms).await? >= hold.max_holds_per_user {
            return Err(DomainError::HoldLimitExceeded {
                limit: hold.max_holds_per_user,
            });
        }
        // Under the same lock: no racing hold of this user can slip past the limit.
        hold.sale.ensure_ticket_room(
            owned_tickets(&txn, hold.user_id, hold.concert_id, hold.now).await?,
        )?;
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
            drop(txn);
            // A lapsed hold the waiting list waits for is handed over at use.
            self.lapse_seat(hold.seat_id, hold.now).await?;
            return Err(DomainError::SeatUnavailable {
                seat_number: hold.seat_number,
            });
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
        self.seat_maps.invalidate(hold.schedule_id.0);
        Ok(created.try_into()?)
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
