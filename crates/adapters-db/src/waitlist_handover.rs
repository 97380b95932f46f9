//! Freeing a seat, and handing it to the schedule's waiting list in the same
//! transaction, so it is never AVAILABLE while someone waits for it.
//!
//! Lock order, as everywhere: the recipient's `users` row (a write bumping
//! its version, which a racing one-statement hold then sees), then their
//! entry, then the seat, then reservations. A refund comes here after the
//! payer's balance and the payment row.

use chrono::{DateTime, Duration, Utc};
use domain::{ConcertId, DomainError, StoreError, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::{concert, reservation, seat, waitlist_entry};
use crate::error::{db_err, is_unique_violation};
use crate::reservation_store::{count_live_holds, lock_user, owned_tickets};
use crate::time::to_ms;

/// How an offer is made: the usual hold TTL and limit.
#[derive(Debug, Clone, Copy)]
pub struct HandOver {
    pub hold_ttl: Duration,
    pub max_holds_per_user: u32,
}

/// How many WAITING entries one hand-over looks at before leaving the seat free.
const CANDIDATES: u64 = 50;

/// Why a reservation gives its seat up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// An unexpired hold, cancelled by its holder.
    Cancel,
    /// A hold past its expiry.
    Lapse,
    /// A paid reservation whose payment is refunded.
    Refund,
}

impl Ending {
    fn statuses(self) -> (&'static str, &'static str, &'static str) {
        // (seat status, reservation status before, after)
        match self {
            Self::Cancel => ("HELD", "HELD", "CANCELLED"),
            Self::Lapse => ("HELD", "HELD", "EXPIRED"),
            Self::Refund => ("SOLD", "CONFIRMED", "REFUNDED"),
        }
    }
}

/// What became of the seat and the reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Freed {
    /// 1 when the reservation changed status (0: someone else got there first).
    pub reservation_rows: u64,
    /// The waiting-list entry the seat was offered to.
    pub offered_to: Option<i64>,
}

/// The first WAITING entry of the schedule whose user is under the limits,
/// locked and claimed (status OFFERED, no reservation yet).
async fn claim_recipient(
    db: &impl ConnectionTrait,
    hand_over: &HandOver,
    schedule_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<waitlist_entry::Model>, DomainError> {
    let waiting = waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::ScheduleId.eq(schedule_id))
        .filter(waitlist_entry::Column::Status.eq("WAITING"))
        .order_by_asc(waitlist_entry::Column::Id)
        .limit(CANDIDATES)
        .all(db)
        .await
        .map_err(db_err)?;
    let Some(first) = waiting.first() else {
        return Ok(None);
    };
    let ticket_limit = concert::Entity::find_by_id(first.concert_id)
        .one(db)
        .await
        .map_err(db_err)?
        .map_or(0, |c| c.max_tickets_per_user.max(0) as u64);
    let now_ms = to_ms(now);
    let expires_ms = to_ms(now + hand_over.hold_ttl);
    for entry in waiting {
        // The user's own holds take turns with this offer (see the hold path),
        // so neither limit can be passed by a race.
        lock_user(db, UserId(entry.user_id)).await?;
        if count_live_holds(db, entry.user_id, now_ms).await? >= hand_over.max_holds_per_user
            || owned_tickets(db, UserId(entry.user_id), ConcertId(entry.concert_id), now).await?
                >= ticket_limit
        {
            continue;
        }
        let claimed = waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("OFFERED"))
            .col_expr(
                waitlist_entry::Column::OfferExpiresAtMs,
                Expr::value(expires_ms),
            )
            .filter(waitlist_entry::Column::Id.eq(entry.id))
            .filter(waitlist_entry::Column::Status.eq("WAITING"))
            .exec(db)
            .await
            .map_err(db_err)?;
        if claimed.rows_affected == 1 {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// Ends `old` and frees its seat (at `seat_version`), offering it to the
/// schedule's waiting list first; the caller owns the transaction.
pub(crate) async fn free_seat(
    db: &impl ConnectionTrait,
    hand_over: &HandOver,
    old: &reservation::Model,
    seat_version: i64,
    ending: Ending,
    now: DateTime<Utc>,
) -> Result<Freed, DomainError> {
    let now_ms = to_ms(now);
    let (seat_status, from, to) = ending.statuses();
    let recipient = claim_recipient(db, hand_over, old.schedule_id, now).await?;
    let expires_ms = to_ms(now + hand_over.hold_ttl);
    let (status, hold_expires) = match recipient {
        Some(_) => ("HELD", Some(expires_ms)),
        None => ("AVAILABLE", None),
    };
    let seat_rows = seat::Entity::update_many()
        .col_expr(seat::Column::Status, Expr::value(status))
        .col_expr(seat::Column::HoldExpiresAtMs, Expr::value(hold_expires))
        .col_expr(seat::Column::Version, Expr::value(seat_version + 1))
        .filter(seat::Column::Id.eq(old.seat_id))
        .filter(seat::Column::Version.eq(seat_version))
        .filter(seat::Column::Status.eq(seat_status))
        .exec(db)
        .await
        .map_err(db_err)?
        .rows_affected;
    let mut ended = reservation::Entity::update_many()
        .col_expr(reservation::Column::Status, Expr::value(to))
        .filter(reservation::Column::Id.eq(old.id))
        .filter(reservation::Column::Status.eq(from));
    ended = match ending {
        Ending::Cancel => ended.filter(reservation::Column::ExpiresAtMs.gt(now_ms)),
        Ending::Lapse => ended.filter(reservation::Column::ExpiresAtMs.lte(now_ms)),
        Ending::Refund => ended,
    };
    let reservation_rows = ended.exec(db).await.map_err(db_err)?.rows_affected;
    if old.origin == "OFFER" && ending != Ending::Refund && reservation_rows == 1 {
        // An offer that lapses or is cancelled ends its entry; the seat moves on.
        waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("LAPSED"))
            .filter(waitlist_entry::Column::ReservationId.eq(old.id))
            .filter(waitlist_entry::Column::Status.eq("OFFERED"))
            .exec(db)
            .await
            .map_err(db_err)?;
    }
    let Some(entry) = recipient else {
        return Ok(Freed {
            reservation_rows,
            offered_to: None,
        });
    };
    if seat_rows == 0 || reservation_rows == 0 {
        // The seat was not ours to give after all: the claim goes back.
        waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("WAITING"))
            .col_expr(
                waitlist_entry::Column::OfferExpiresAtMs,
                Expr::value(Option::<i64>::None),
            )
            .filter(waitlist_entry::Column::Id.eq(entry.id))
            .exec(db)
            .await
            .map_err(db_err)?;
        return Ok(Freed {
            reservation_rows,
            offered_to: None,
        });
    }
    let offer = reservation::ActiveModel {
        user_id: Set(entry.user_id),
        concert_id: Set(old.concert_id),
        schedule_id: Set(old.schedule_id),
        seat_id: Set(old.seat_id),
        seat_number: Set(old.seat_number),
        seat_version: Set(seat_version + 1),
        price: Set(old.price),
        status: Set("HELD".into()),
        expires_at_ms: Set(expires_ms),
        created_at_ms: Set(now_ms),
        origin: Set("OFFER".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            DomainError::Store(StoreError::Conflict)
        } else {
            db_err(e)
        }
    })?;
    waitlist_entry::Entity::update_many()
        .col_expr(waitlist_entry::Column::ReservationId, Expr::value(offer.id))
        .filter(waitlist_entry::Column::Id.eq(entry.id))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(Freed {
        reservation_rows,
        offered_to: Some(entry.id),
    })
}
