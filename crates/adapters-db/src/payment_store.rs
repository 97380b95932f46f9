//! Payments and refunds (a payment on PostgreSQL is one statement:
//! [`crate::payment_statement`]). Lock order in every one of them: the user's balance,
//! then the payment row (refund), then seats by id, each seat before its
//! reservation — the order of the reservation store, so they cannot deadlock.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use domain::idempotency::IdempotencyReceipt;
use domain::payment::refund::{Refund, RefundDecision};
use domain::payment::{
    PaidItem, Payment, PaymentAttempt, PaymentDecision, PaymentRecord, PaymentRequest,
    PaymentSnapshot,
};
use domain::points::Balance;
use domain::ports::PaymentStore;
use domain::queue::Admission;
use domain::reservation::Reservation;
use domain::reservation::ReservationStatus;
use domain::{DomainError, PaymentId, StoreError, UserId, Won};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::entity::{
    balance, payment, payment_item, queue_token, reservation, seat, waitlist_entry,
};
use crate::error::{db_err, is_unique_violation};
use crate::idempotency_store::complete_in_transaction;
use crate::payment_statement::{pay_in_one_statement, Outcome};
use crate::point_store::apply_change;
use crate::queue_store::{expire_active_token, ticket};
use crate::time::{from_ms, to_ms};
use crate::waitlist_handover::{free_seat, Ending, HandOver};
use crate::SeatMapCache;

/// Payments: the whole decision in one transaction, or nothing.
pub struct DbPaymentStore {
    pub db: DatabaseConnection,
    /// Told after a seat is sold or freed, so this instance reads its own writes.
    pub seat_maps: Arc<SeatMapCache>,
    /// How a seat freed by a refund is offered to the waiting list.
    pub hand_over: HandOver,
}

/// Items by seat id: every transaction takes seat locks in the same order.
fn by_seat(items: &[PaidItem]) -> Vec<&PaidItem> {
    let mut sorted: Vec<&PaidItem> = items.iter().collect();
    sorted.sort_by_key(|i| i.seat_id);
    sorted
}

/// Sells one held seat and confirms its reservation; says why not otherwise.
async fn sell(
    db: &impl ConnectionTrait,
    item: &PaidItem,
    paid_at_ms: i64,
) -> Result<(), DomainError> {
    let sold = seat::Entity::update_many()
        .col_expr(seat::Column::Status, Expr::value("SOLD"))
        .col_expr(
            seat::Column::HoldExpiresAtMs,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(seat::Column::Version, Expr::value(item.seat_version + 1))
        .filter(seat::Column::Id.eq(item.seat_id.0))
        .filter(seat::Column::Version.eq(item.seat_version))
        .filter(seat::Column::Status.eq("HELD"))
        .exec(db)
        .await
        .map_err(db_err)?;
    let confirmed = reservation::Entity::update_many()
        .col_expr(reservation::Column::Status, Expr::value("CONFIRMED"))
        .filter(reservation::Column::Id.eq(item.reservation_id.0))
        .filter(reservation::Column::Status.eq("HELD"))
        .filter(reservation::Column::ExpiresAtMs.gt(paid_at_ms))
        .exec(db)
        .await
        .map_err(db_err)?;
    if sold.rows_affected == 1 && confirmed.rows_affected == 1 {
        return Ok(());
    }
    // Someone paid, cancelled or let it lapse in between: say which.
    let current: Option<Reservation> = reservation::Entity::find_by_id(item.reservation_id.0)
        .one(db)
        .await
        .map_err(db_err)?
        .map(Reservation::try_from)
        .transpose()?;
    Err(match current {
        Some(r) => r
            .ensure_payable(from_ms(paid_at_ms))
            .err()
            .unwrap_or(DomainError::Store(StoreError::Conflict)),
        None => DomainError::not_found(format!("reservation {}", item.reservation_id)),
    })
}

/// The payment and its reservations in the order they were paid.
async fn load(db: &impl ConnectionTrait, id: i64) -> Result<Option<PaymentRecord>, DomainError> {
    let Some(row) = payment::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let items = payment_item::Entity::find()
        .filter(payment_item::Column::PaymentId.eq(id))
        .order_by_asc(payment_item::Column::Position)
        .all(db)
        .await
        .map_err(db_err)?;
    let ids: Vec<i64> = items.iter().map(|i| i.reservation_id).collect();
    let mut rows = reservation::Entity::find()
        .filter(reservation::Column::Id.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(db_err)?;
    rows.sort_by_key(|r| ids.iter().position(|&id| id == r.id));
    Ok(Some(PaymentRecord {
        id: PaymentId(row.id),
        user_id: UserId(row.user_id),
        reservations: rows
            .into_iter()
            .map(Reservation::try_from)
            .collect::<Result<_, _>>()?,
        amount: Won::new(row.amount)?,
        paid_at: from_ms(row.paid_at_ms),
        refunded_at: row.refunded_at_ms.map(from_ms),
    }))
}

/// A unique index refused a second payment of a reservation.
pub(crate) fn paid_again(e: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&e) {
        DomainError::ReservationNotPayable(ReservationStatus::Confirmed)
    } else {
        db_err(e)
    }
}

/// The payment one statement at a time inside the transaction, where a CTE
/// cannot modify data (SQLite): balance, then seats by id with their
/// reservations, then the payment, its items and a paid offer's entry.
async fn pay_step_by_step(
    txn: &impl ConnectionTrait,
    d: &PaymentDecision,
) -> Result<i64, DomainError> {
    let paid_at_ms = to_ms(d.paid_at);
    // Balance first (lock order: user, seat, reservation).
    apply_change(txn, &d.debit).await?;
    for item in by_seat(&d.items) {
        sell(txn, item, paid_at_ms).await?;
    }
    // `payments.reservation_id` (unique since the first schema) names the
    // first item; `payment_items` holds them all.
    let created = payment::ActiveModel {
        reservation_id: Set(d.items[0].reservation_id.0),
        user_id: Set(d.debit.user_id.0),
        amount: Set(d.amount.value()),
        balance_after: Set(d.debit.new_amount.value()),
        paid_at_ms: Set(paid_at_ms),
        refunded_at_ms: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(paid_again)?;
    payment_item::Entity::insert_many(d.items.iter().enumerate().map(|(i, item)| {
        payment_item::ActiveModel {
            payment_id: Set(created.id),
            position: Set(i as i32),
            reservation_id: Set(item.reservation_id.0),
        }
    }))
    .exec(txn)
    .await
    .map_err(paid_again)?;
    if d.offer {
        let ids: Vec<i64> = d.items.iter().map(|i| i.reservation_id.0).collect();
        waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("FULFILLED"))
            .filter(waitlist_entry::Column::ReservationId.is_in(ids))
            .filter(waitlist_entry::Column::Status.eq("OFFERED"))
            .exec(txn)
            .await
            .map_err(db_err)?;
    }
    Ok(created.id)
}

/// The payment where a CTE cannot modify data (SQLite): one transaction
/// that reads what the domain judges, asks it, and applies its decision step
/// by step (ending the token judged in it, as the PostgreSQL statement does).
async fn pay_in_transaction(
    db: &DatabaseConnection,
    request: &PaymentRequest<'_>,
    receipt: Option<&IdempotencyReceipt<Payment>>,
) -> Result<Outcome, DomainError> {
    let txn = db.begin().await.map_err(db_err)?;
    let seen = snapshot(&txn, request).await?;
    let Ok(decision) = seen.decide(request) else {
        // Dropped uncommitted: nothing was written.
        return Ok(Outcome::Refused(seen));
    };
    let id = pay_step_by_step(&txn, &decision).await?;
    if matches!(request.admission, Admission::InWrite(_)) && !decision.offer {
        expire_active_token(&txn, request.user_id, decision.concert_id, decision.paid_at).await?;
    }
    let payment = Payment {
        id: PaymentId(id),
        reservation_ids: request.reservation_ids.to_vec(),
        amount: decision.amount,
        balance_after: decision.debit.new_amount,
        paid_at: decision.paid_at,
    };
    complete_in_transaction(&txn, receipt, &payment).await?;
    txn.commit().await.map_err(db_err)?;
    let schedules = decision.items.iter().map(|i| i.schedule_id.0).collect();
    Ok(Outcome::Paid(payment, schedules))
}

/// What the payment transaction sees: the payer's own reservations among
/// those asked for, the balance, and the token when it is judged here.
async fn snapshot(
    txn: &impl ConnectionTrait,
    request: &PaymentRequest<'_>,
) -> Result<PaymentSnapshot, DomainError> {
    let user_id = request.user_id;
    let ids: Vec<i64> = request.reservation_ids.iter().map(|id| id.0).collect();
    let reservations: Vec<Reservation> = reservation::Entity::find()
        .filter(reservation::Column::Id.is_in(ids))
        .filter(reservation::Column::UserId.eq(user_id.0))
        .all(txn)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(Reservation::try_from)
        .collect::<Result<_, _>>()?;
    let balance = match balance::Entity::find_by_id(user_id.0)
        .one(txn)
        .await
        .map_err(db_err)?
    {
        Some(row) => Balance {
            user_id,
            amount: Won::new(row.balance)?,
            version: row.version,
        },
        None => Balance {
            user_id,
            amount: Won::ZERO,
            version: 0,
        },
    };
    let token = match (request.admission, reservations.first()) {
        (Admission::InWrite(token), Some(first)) => queue_token::Entity::find()
            .filter(queue_token::Column::Token.eq(token))
            .filter(queue_token::Column::UserId.eq(user_id.0))
            .filter(queue_token::Column::ConcertId.eq(first.concert_id.0))
            .one(txn)
            .await
            .map_err(db_err)?
            .map(|found| ticket(found, None, request.paid_at).map(|t| t.status))
            .transpose()?,
        _ => None,
    };
    Ok(PaymentSnapshot {
        reservations,
        balance,
        token,
    })
}

#[async_trait]
impl PaymentStore for DbPaymentStore {
    async fn pay<'a>(
        &self,
        request: &PaymentRequest<'a>,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<PaymentAttempt, DomainError> {
        if request.reservation_ids.is_empty() {
            return Err(DomainError::validation(
                "a payment covers at least one reservation",
            ));
        }
        let (payment, schedules) = if self.db.get_database_backend() == DbBackend::Postgres {
            match pay_in_one_statement(&self.db, request, receipt).await? {
                Outcome::Paid(payment, schedules) => (payment, schedules),
                Outcome::Refused(seen) => return Ok(PaymentAttempt::Refused(seen)),
                Outcome::ClaimLost => return Err(StoreError::ClaimTakenOver.into()),
            }
        } else {
            match pay_in_transaction(&self.db, request, receipt).await? {
                Outcome::Paid(payment, schedules) => (payment, schedules),
                Outcome::Refused(seen) => return Ok(PaymentAttempt::Refused(seen)),
                Outcome::ClaimLost => return Err(StoreError::ClaimTakenOver.into()),
            }
        };
        let schedules: BTreeSet<i64> = schedules.into_iter().collect();
        schedules
            .into_iter()
            .for_each(|s| self.seat_maps.invalidate(s));
        Ok(PaymentAttempt::Paid(payment))
    }

    async fn find(&self, id: PaymentId) -> Result<Option<PaymentRecord>, DomainError> {
        load(&self.db, id.0).await
    }

    async fn refund<'a>(
        &self,
        d: &RefundDecision,
        receipt: Option<&'a IdempotencyReceipt<Refund>>,
    ) -> Result<Refund, DomainError> {
        let at_ms = to_ms(d.refunded_at);
        let txn = self.db.begin().await.map_err(db_err)?;
        let balance = apply_change(&txn, &d.credit).await?;
        let marked = payment::Entity::update_many()
            .col_expr(payment::Column::RefundedAtMs, Expr::value(at_ms))
            .filter(payment::Column::Id.eq(d.payment_id.0))
            .filter(payment::Column::RefundedAtMs.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if marked.rows_affected == 0 {
            return Err(DomainError::AlreadyRefunded);
        }
        let ids: Vec<i64> = d.items.iter().map(|i| i.reservation_id.0).collect();
        let mut paid = reservation::Entity::find()
            .filter(reservation::Column::Id.is_in(ids))
            .all(&txn)
            .await
            .map_err(db_err)?;
        paid.sort_by_key(|r| r.seat_id);
        for old in &paid {
            // The sale bumped the hold's seat version by one.
            let freed = free_seat(
                &txn,
                &self.hand_over,
                old,
                old.seat_version + 1,
                Ending::Refund,
                d.refunded_at,
            )
            .await?;
            if freed.reservation_rows == 0 {
                return Err(DomainError::Store(StoreError::Conflict));
            }
        }
        let payment = load(&txn, d.payment_id.0)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("payment {}", d.payment_id)))?;
        let refund = Refund {
            payment,
            balance_after: balance.amount,
        };
        complete_in_transaction(&txn, receipt, &refund).await?;
        txn.commit().await.map_err(db_err)?;
        for item in &d.items {
            self.seat_maps.invalidate(item.schedule_id.0);
        }
        Ok(refund)
    }
}
