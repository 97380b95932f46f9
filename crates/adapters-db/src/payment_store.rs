//! Payments and refunds. Lock order in both transactions: the user's balance,
//! then the payment row (refund), then seats by id, each seat before its
//! reservation — the order of the reservation store, so they cannot deadlock.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use domain::idempotency::IdempotencyReceipt;
use domain::payment::refund::{Refund, RefundDecision};
use domain::payment::{PaidItem, Payment, PaymentDecision, PaymentRecord};
use domain::ports::PaymentStore;
use domain::reservation::Reservation;
use domain::reservation::ReservationStatus;
use domain::{DomainError, PaymentId, StoreError, UserId, Won};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Set, Statement, TransactionTrait,
};

use crate::entity::{payment, payment_item, reservation, seat, waitlist_entry};
use crate::error::{db_err, is_unique_violation};
use crate::idempotency_store::complete_in_transaction;
use crate::point_store::apply_change;
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
fn paid_again(e: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&e) {
        DomainError::ReservationNotPayable(ReservationStatus::Confirmed)
    } else {
        db_err(e)
    }
}

/// Why an item the payment's conditional write did not take is not payable,
/// read after the failed transaction was rolled back.
async fn why_not_payable(
    db: &impl ConnectionTrait,
    items: &[PaidItem],
    paid_at_ms: i64,
) -> DomainError {
    for item in items {
        let current = reservation::Entity::find_by_id(item.reservation_id.0)
            .one(db)
            .await;
        match current {
            Err(e) => return db_err(e),
            Ok(None) => {
                return DomainError::not_found(format!("reservation {}", item.reservation_id))
            }
            Ok(Some(row)) => {
                let checked = Reservation::try_from(row)
                    .map_err(DomainError::from)
                    .and_then(|r| r.ensure_payable(from_ms(paid_at_ms)));
                if let Err(e) = checked {
                    return e;
                }
            }
        }
    }
    // Every one still payable: a seat version moved under us.
    StoreError::Conflict.into()
}

/// A payment id no payment has: the kept answer is rendered with it, and the
/// payment statement writes the real id in its place.
const ID_PLACEHOLDER: i64 = i64::MAX - 7;

/// What the one-statement payment did.
enum OneStatement {
    /// Committed as this payment id.
    Paid(i64),
    /// Nothing written: the balance's version moved.
    BalanceMoved,
    /// Nothing written: a seat or reservation is no longer as decided.
    ItemMoved,
    /// Nothing written: the idempotency claim is no longer this run's.
    ClaimLost,
}

/// The payment on PostgreSQL as ONE autocommitted statement, all or nothing.
/// It first locks, in the order every transaction uses, the balance at its
/// decided version, the seats still HELD at their decided versions, the
/// reservations still HELD and unexpired, and the idempotency claim still
/// unanswered under its fence; only when every one of them is locked (a
/// locked row cannot move before the statement ends) does it debit the
/// balance and write its history, sell the seats, confirm the reservations,
/// insert the payment and its items, end a paid offer's waiting-list entry
/// and keep the answer on the claim (rendered with [`ID_PLACEHOLDER`], which
/// the statement replaces by the payment's id).
async fn pay_in_one_statement(
    db: &DatabaseConnection,
    d: &PaymentDecision,
    receipt: Option<&IdempotencyReceipt<Payment>>,
) -> Result<OneStatement, DomainError> {
    const SQL: &str = "WITH items AS (
  SELECT * FROM unnest($6::bigint[], $7::bigint[], $8::bigint[])
    WITH ORDINALITY AS i(reservation_id, seat_id, seat_version, position)),
balance_lock AS (
  SELECT user_id FROM balances WHERE user_id = $3 AND version = $2 FOR UPDATE),
seat_locks AS (
  SELECT s.id FROM seats s JOIN items ON s.id = items.seat_id
   WHERE s.version = items.seat_version AND s.status = 'HELD'
     AND (SELECT count(*) FROM balance_lock) = 1
   ORDER BY s.id FOR UPDATE OF s),
reservation_locks AS (
  SELECT id FROM reservations
   WHERE id IN (SELECT reservation_id FROM items) AND status = 'HELD' AND expires_at_ms > $5
     AND (SELECT count(*) FROM seat_locks) = $11
   ORDER BY id FOR UPDATE),
claim_lock AS (
  SELECT user_id FROM idempotency_keys
   WHERE $12 AND user_id = $3 AND endpoint = $13 AND key = $14 AND created_at_ms = $15
     AND response_status IS NULL
     AND (SELECT count(*) FROM reservation_locks) = $11
   FOR UPDATE),
go AS (
  SELECT (SELECT count(*) FROM reservation_locks) = $11
         AND (NOT $12 OR EXISTS (SELECT 1 FROM claim_lock)) AS ok),
debited AS (
  UPDATE balances SET balance = $1, version = $2 + 1
   WHERE user_id = $3 AND version = $2 AND (SELECT ok FROM go)
  RETURNING user_id),
entry AS (
  INSERT INTO point_entries (user_id, kind, amount, balance_after, created_at_ms)
  SELECT user_id, 'PAYMENT', $4, $1, $5 FROM debited),
sold AS (
  UPDATE seats SET status = 'SOLD', hold_expires_at_ms = NULL, version = seats.version + 1
    FROM items
   WHERE seats.id = items.seat_id AND seats.version = items.seat_version
     AND seats.status = 'HELD' AND (SELECT ok FROM go)),
confirmed AS (
  UPDATE reservations SET status = 'CONFIRMED'
   WHERE id IN (SELECT reservation_id FROM items) AND status = 'HELD' AND expires_at_ms > $5
     AND (SELECT ok FROM go)),
paid AS (
  INSERT INTO payments (reservation_id, user_id, amount, balance_after, paid_at_ms)
  SELECT $9, user_id, $10, $1, $5 FROM debited
  RETURNING id),
paid_items AS (
  INSERT INTO payment_items (payment_id, position, reservation_id)
  SELECT paid.id, (items.position - 1)::integer, items.reservation_id FROM paid, items),
fulfilled AS (
  UPDATE waitlist_entries SET status = 'FULFILLED'
   WHERE $16 AND reservation_id IN (SELECT reservation_id FROM items) AND status = 'OFFERED'
     AND (SELECT ok FROM go)),
answered AS (
  UPDATE idempotency_keys
     SET response_status = $17, response_body = replace($18, $19, (SELECT id FROM paid)::text)
   WHERE $12 AND user_id = $3 AND endpoint = $13 AND key = $14 AND created_at_ms = $15
     AND response_status IS NULL AND (SELECT ok FROM go))
SELECT (SELECT count(*) FROM balance_lock) AS balance_locked,
       (SELECT count(*) FROM reservation_locks) AS items_locked,
       (SELECT id FROM paid) AS payment_id";
    let array = |f: &dyn Fn(&PaidItem) -> i64| {
        let ids: Vec<String> = d.items.iter().map(|i| f(i).to_string()).collect();
        format!("{{{}}}", ids.join(","))
    };
    let paid_at_ms = to_ms(d.paid_at);
    let n = d.items.len() as i64;
    // The answer to keep, with a placeholder where the payment's id goes.
    let kept = receipt.map(|r| {
        let placeholder = Payment {
            id: PaymentId(ID_PLACEHOLDER),
            reservation_ids: d.items.iter().map(|i| i.reservation_id).collect(),
            amount: d.amount,
            balance_after: d.debit.new_amount,
            paid_at: d.paid_at,
        };
        (r, r.answer(&placeholder))
    });
    let values: Vec<sea_orm::Value> = vec![
        d.debit.new_amount.value().into(),
        d.debit.expected_version.into(),
        d.debit.user_id.0.into(),
        d.debit.delta.value().into(),
        paid_at_ms.into(),
        array(&|i| i.reservation_id.0).into(),
        array(&|i| i.seat_id.0).into(),
        array(&|i| i.seat_version).into(),
        d.items[0].reservation_id.0.into(),
        d.amount.value().into(),
        n.into(),
        kept.is_some().into(),
        kept.as_ref().map_or("", |(r, _)| r.scope.endpoint).into(),
        kept.as_ref()
            .map_or(String::new(), |(r, _)| r.scope.key.as_str().to_owned())
            .into(),
        kept.as_ref().map_or(0, |(r, _)| r.fence).into(),
        d.offer.into(),
        kept.as_ref()
            .map_or(0, |(_, s)| i32::from(s.outcome))
            .into(),
        kept.as_ref()
            .map_or(String::new(), |(_, s)| s.body.clone())
            .into(),
        ID_PLACEHOLDER.to_string().into(),
    ];
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SQL,
            values,
        ))
        .await
        .map_err(paid_again)?
        .ok_or_else(|| StoreError::internal("the payment statement answered no row"))?;
    let get = |column: &str| row.try_get::<Option<i64>>("", column).map_err(db_err);
    Ok(match get("payment_id")? {
        Some(id) => OneStatement::Paid(id),
        None if get("balance_locked")? != Some(1) => OneStatement::BalanceMoved,
        None if get("items_locked")? != Some(n) => OneStatement::ItemMoved,
        None if receipt.is_some() => OneStatement::ClaimLost,
        None => OneStatement::BalanceMoved,
    })
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

#[async_trait]
impl PaymentStore for DbPaymentStore {
    async fn pay<'a>(
        &self,
        d: &PaymentDecision,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError> {
        if d.items.is_empty() {
            return Err(DomainError::validation(
                "a payment covers at least one reservation",
            ));
        }
        let payment = |id| Payment {
            id: PaymentId(id),
            reservation_ids: d.items.iter().map(|i| i.reservation_id).collect(),
            amount: d.amount,
            balance_after: d.debit.new_amount,
            paid_at: d.paid_at,
        };
        let payment = if self.db.get_database_backend() == DbBackend::Postgres {
            match pay_in_one_statement(&self.db, d, receipt).await? {
                OneStatement::Paid(id) => payment(id),
                OneStatement::BalanceMoved => return Err(StoreError::Conflict.into()),
                OneStatement::ItemMoved => {
                    return Err(why_not_payable(&self.db, &d.items, to_ms(d.paid_at)).await)
                }
                OneStatement::ClaimLost => return Err(StoreError::ClaimTakenOver.into()),
            }
        } else {
            let txn = self.db.begin().await.map_err(db_err)?;
            let paid = payment(pay_step_by_step(&txn, d).await?);
            complete_in_transaction(&txn, receipt, &paid).await?;
            txn.commit().await.map_err(db_err)?;
            paid
        };
        let schedules: BTreeSet<i64> = d.items.iter().map(|i| i.schedule_id.0).collect();
        schedules
            .into_iter()
            .for_each(|s| self.seat_maps.invalidate(s));
        Ok(payment)
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
