//! Seat holds. Lock order in every transaction: user, then seat, then
//! reservation; the payment store follows it too, so they cannot deadlock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::ReservationStore;
use domain::queue::Admission;
use domain::reservation::{NewHold, Reservation, ReservationStatus};
use domain::seat::{Seat, SeatStatus};
use domain::{
    ConcertId, DomainError, Page, PageRequest, ReservationId, ScheduleId, SeatId, StoreError,
    UserId, Won,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::entity::{reservation, user};
use crate::error::db_err;
use crate::seat_hold::{hold_in_transaction, hold_postgres, Taken};
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

/// Locks the user's row for the rest of the transaction, so one user's
/// holds and offers take turns and racing requests cannot both pass a limit.
/// The lock is a write that bumps `users.version`: a one-statement hold
/// that read the version before this transaction commits then fails its own
/// conditional bump and retries (see [`crate::seat_hold`]). Every writer
/// that can add to a user's holds or tickets must come through here.
pub(crate) async fn lock_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The reservation the store just wrote for `hold`, on `seat` as it was
/// before the write.
fn held(hold: &NewHold, id: i64, seat: &Seat) -> Reservation {
    Reservation {
        id: ReservationId(id),
        user_id: hold.user_id,
        concert_id: hold.concert_id,
        schedule_id: hold.schedule_id,
        seat_id: hold.seat_id,
        seat_number: seat.seat_number,
        seat_version: seat.version + 1,
        price: seat.price,
        status: ReservationStatus::Held,
        expires_at: hold.expires_at,
        created_at: hold.now,
        offer: false,
    }
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
    async fn hold<'a>(
        &self,
        hold: &NewHold,
        admission: Admission<'a>,
    ) -> Result<Reservation, DomainError> {
        let taken = if self.db.get_database_backend() == DbBackend::Postgres {
            hold_postgres(&self.db, hold, admission).await?
        } else {
            hold_in_transaction(&self.db, hold, admission).await?
        };
        match taken {
            Taken::Held { id, seat } => {
                self.seat_maps.invalidate(hold.schedule_id.0);
                Ok(held(hold, id, &seat))
            }
            Taken::Overtaken => Err(StoreError::Conflict.into()),
            Taken::Refused(seen) => {
                let lapsed = seen.seat.as_ref().is_some_and(|s| {
                    s.status == SeatStatus::Held && s.status_at(hold.now) == SeatStatus::Available
                });
                let refusal = hold.refusal(seen);
                if lapsed && matches!(refusal, DomainError::SeatUnavailable { .. }) {
                    // A lapsed hold the waiting list waits for is handed over at use.
                    self.lapse_seat(hold.seat_id, hold.now).await?;
                }
                Err(refusal)
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
