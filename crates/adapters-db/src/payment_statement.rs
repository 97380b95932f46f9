//! The payment on PostgreSQL as ONE prepared, autocommitted statement: it
//! reads what the domain judges (the payer's reservations, balance and
//! queue token) in its own snapshot, writes only when that is payable, and
//! answers what it saw when it did not pay, so the domain names the refusal.
//!
//! Its condition mirrors [`PaymentSnapshot::decide`] and must never be
//! looser: when the statement refuses what the domain would accept, the use
//! case sees a conflict and runs it again on a fresh snapshot, so a stricter
//! statement costs a retry, a looser one would move money wrongly.

use domain::idempotency::IdempotencyReceipt;
use domain::payment::{Payment, PaymentRequest, PaymentSnapshot};
use domain::points::Balance;
use domain::queue::{Admission, QueueStatus};
use domain::reservation::Reservation;
use domain::{DomainError, PaymentId, StoreError, Won};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, QueryResult, Statement,
};

use crate::entity::reservation;
use crate::error::db_err;
use crate::time::to_ms;

/// What the statement did.
pub(crate) enum Outcome {
    /// Committed: this payment, and the schedules whose seats it sold.
    Paid(Payment, Vec<i64>),
    /// Nothing written: what it saw.
    Refused(PaymentSnapshot),
    /// Nothing written: the idempotency claim is no longer this run's.
    ClaimLost,
}

// Numbers no payment has (19 digits, each distinct): the kept answer is
// rendered with them, and the statement writes the real id, amount and
// balance (which only it knows) in their places.
const ID_PLACEHOLDER: i64 = i64::MAX - 7;
const AMOUNT_PLACEHOLDER: i64 = i64::MAX - 8;
const BALANCE_PLACEHOLDER: i64 = i64::MAX - 9;

/// `seen`: the payer's own reservations among those asked for; `judged`:
/// the domain's rule on them, the balance and the token. The locks are then
/// taken in the order every transaction uses (the balance at the version
/// seen, the seats still HELD at the hold's version by id, the reservations
/// still HELD and unexpired by id, the payer's ACTIVE token when it is
/// judged here, the idempotency claim still unanswered under its fence),
/// each only once the previous ones are held. A locked row cannot move
/// before the statement ends, so when all are held (`go`) every write below
/// matches, and when one is not, none does. A balance written after the
/// snapshot fails its version lock: the answer then looks payable, which
/// the use case treats as a conflict.
const SQL: &str = "WITH items AS (
  SELECT * FROM unnest($2::bigint[]) WITH ORDINALITY AS i(reservation_id, position)),
seen AS (
  SELECT * FROM reservations
   WHERE id IN (SELECT reservation_id FROM items) AND user_id = $1),
bal AS (
  SELECT balance, version FROM balances WHERE user_id = $1),
ord AS (
  SELECT min(concert_id) AS concert_id, bool_and(origin = 'OFFER') AS offer,
         sum(price)::bigint AS amount,
         count(*) = cardinality($2::bigint[])
           AND count(DISTINCT concert_id) = 1 AND count(DISTINCT origin) = 1
           AND bool_and(status = 'HELD' AND expires_at_ms > $3) AS payable
    FROM seen),
tok AS (
  SELECT CASE WHEN status = 'ACTIVE' AND (expires_at_ms IS NULL OR expires_at_ms <= $3)
              THEN 'EXPIRED' ELSE status END AS status
    FROM queue_tokens
   WHERE $4 AND token = $5 AND user_id = $1 AND concert_id = (SELECT concert_id FROM ord)),
judged AS (
  SELECT coalesce(ord.payable
                  AND (ord.offer OR NOT $4 OR (SELECT status FROM tok) = 'ACTIVE')
                  AND (SELECT balance FROM bal) >= ord.amount, false) AS ok
    FROM ord),
balance_lock AS (
  SELECT user_id FROM balances
   WHERE user_id = $1 AND version = (SELECT version FROM bal) AND (SELECT ok FROM judged)
   FOR UPDATE),
seat_locks AS (
  SELECT s.id FROM seats s JOIN seen ON s.id = seen.seat_id
   WHERE s.version = seen.seat_version AND s.status = 'HELD'
     AND EXISTS (SELECT 1 FROM balance_lock)
   ORDER BY s.id FOR UPDATE OF s),
reservation_locks AS (
  SELECT id FROM reservations
   WHERE id IN (SELECT id FROM seen) AND user_id = $1 AND status = 'HELD' AND expires_at_ms > $3
     AND (SELECT count(*) FROM seat_locks) = cardinality($2::bigint[])
   ORDER BY id FOR UPDATE),
token_lock AS (
  SELECT id FROM queue_tokens
   WHERE $4 AND NOT (SELECT offer FROM ord) AND token = $5 AND user_id = $1
     AND concert_id = (SELECT concert_id FROM ord) AND status = 'ACTIVE' AND expires_at_ms > $3
     AND (SELECT count(*) FROM reservation_locks) = cardinality($2::bigint[])
   FOR UPDATE),
held AS (
  SELECT (SELECT count(*) FROM reservation_locks) = cardinality($2::bigint[])
         AND ((SELECT offer FROM ord) OR NOT $4 OR EXISTS (SELECT 1 FROM token_lock)) AS ok),
claim_lock AS (
  SELECT user_id FROM idempotency_keys
   WHERE $6 AND user_id = $1 AND endpoint = $7 AND key = $8 AND created_at_ms = $9
     AND response_status IS NULL AND (SELECT ok FROM held)
   FOR UPDATE),
go AS (
  SELECT (SELECT ok FROM held) AND (NOT $6 OR EXISTS (SELECT 1 FROM claim_lock)) AS ok),
debited AS (
  UPDATE balances SET balance = balance - (SELECT amount FROM ord), version = version + 1
   WHERE user_id = $1 AND version = (SELECT version FROM bal) AND (SELECT ok FROM go)
  RETURNING user_id, balance),
entry AS (
  INSERT INTO point_entries (user_id, kind, amount, balance_after, created_at_ms)
  SELECT user_id, 'PAYMENT', -(SELECT amount FROM ord), balance, $3 FROM debited),
sold AS (
  UPDATE seats SET status = 'SOLD', hold_expires_at_ms = NULL, version = seats.version + 1
    FROM seen
   WHERE seats.id = seen.seat_id AND seats.version = seen.seat_version
     AND seats.status = 'HELD' AND (SELECT ok FROM go)),
confirmed AS (
  UPDATE reservations SET status = 'CONFIRMED'
   WHERE id IN (SELECT id FROM seen) AND status = 'HELD' AND expires_at_ms > $3
     AND (SELECT ok FROM go)),
paid AS (
  INSERT INTO payments (reservation_id, user_id, amount, balance_after, paid_at_ms)
  SELECT ($2::bigint[])[1], user_id, (SELECT amount FROM ord), balance, $3 FROM debited
  RETURNING id),
paid_items AS (
  INSERT INTO payment_items (payment_id, position, reservation_id)
  SELECT paid.id, (items.position - 1)::integer, items.reservation_id FROM paid, items),
fulfilled AS (
  UPDATE waitlist_entries SET status = 'FULFILLED'
   WHERE (SELECT offer FROM ord) AND reservation_id IN (SELECT id FROM seen)
     AND status = 'OFFERED' AND (SELECT ok FROM go)),
ended AS (
  UPDATE queue_tokens SET status = 'EXPIRED', expires_at_ms = $3
   WHERE id IN (SELECT id FROM token_lock) AND (SELECT ok FROM go)),
answered AS (
  UPDATE idempotency_keys
     SET response_status = $10,
         response_body = replace(replace(replace($11,
             $12, (SELECT id FROM paid)::text),
             $13, (SELECT amount FROM ord)::text),
             $14, (SELECT balance FROM debited)::text)
   WHERE $6 AND user_id = $1 AND endpoint = $7 AND key = $8 AND created_at_ms = $9
     AND response_status IS NULL AND (SELECT ok FROM go))
SELECT paid.id AS payment_id, debited.balance AS balance_after, ord.amount,
       bal.balance, bal.version, tok.status AS token_status,
       $6 AND (SELECT ok FROM held) AND NOT EXISTS (SELECT 1 FROM claim_lock) AS claim_lost,
       seen.id AS r_id, seen.user_id AS r_user_id, seen.concert_id AS r_concert_id,
       seen.schedule_id AS r_schedule_id, seen.seat_id AS r_seat_id,
       seen.seat_number AS r_seat_number, seen.seat_version AS r_seat_version,
       seen.price AS r_price, seen.status AS r_status, seen.expires_at_ms AS r_expires_at_ms,
       seen.created_at_ms AS r_created_at_ms, seen.origin AS r_origin
  FROM ord
  LEFT JOIN paid ON true LEFT JOIN debited ON true LEFT JOIN bal ON true
  LEFT JOIN tok ON true LEFT JOIN seen ON true";

/// Runs the payment statement for `request`.
pub(crate) async fn pay_in_one_statement(
    db: &DatabaseConnection,
    request: &PaymentRequest<'_>,
    receipt: Option<&IdempotencyReceipt<Payment>>,
) -> Result<Outcome, DomainError> {
    let ids: Vec<String> = request
        .reservation_ids
        .iter()
        .map(|id| id.0.to_string())
        .collect();
    let token = match request.admission {
        Admission::InWrite(token) => Some(token),
        Admission::Checked => None,
    };
    // The answer to keep, with placeholders where only the statement knows the values.
    let kept = receipt.map(|r| {
        let placeholder = Payment {
            id: PaymentId(ID_PLACEHOLDER),
            reservation_ids: request.reservation_ids.to_vec(),
            amount: Won::new(AMOUNT_PLACEHOLDER).expect("a positive placeholder"),
            balance_after: Won::new(BALANCE_PLACEHOLDER).expect("a positive placeholder"),
            paid_at: request.paid_at,
        };
        (r, r.answer(&placeholder))
    });
    let values: Vec<sea_orm::Value> = vec![
        request.user_id.0.into(),
        format!("{{{}}}", ids.join(",")).into(),
        to_ms(request.paid_at).into(),
        token.is_some().into(),
        token.unwrap_or_default().to_owned().into(),
        kept.is_some().into(),
        kept.as_ref().map_or("", |(r, _)| r.scope.endpoint).into(),
        kept.as_ref()
            .map_or(String::new(), |(r, _)| r.scope.key.as_str().to_owned())
            .into(),
        kept.as_ref().map_or(0, |(r, _)| r.fence).into(),
        kept.as_ref()
            .map_or(0, |(_, s)| i32::from(s.outcome))
            .into(),
        kept.as_ref()
            .map_or(String::new(), |(_, s)| s.body.clone())
            .into(),
        ID_PLACEHOLDER.to_string().into(),
        AMOUNT_PLACEHOLDER.to_string().into(),
        BALANCE_PLACEHOLDER.to_string().into(),
    ];
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SQL,
            values,
        ))
        .await
        .map_err(crate::payment_store::paid_again)?;
    let first = rows
        .first()
        .ok_or_else(|| StoreError::internal("the payment statement answered no row"))?;
    let seen = rows
        .iter()
        .filter_map(|row| seen_reservation(row).transpose())
        .collect::<Result<Vec<reservation::Model>, _>>()?;
    if let Some(id) = first
        .try_get::<Option<i64>>("", "payment_id")
        .map_err(db_err)?
    {
        let won = |column| -> Result<Won, DomainError> {
            let value = first.try_get::<Option<i64>>("", column).map_err(db_err)?;
            Ok(Won::new(value.ok_or_else(|| {
                StoreError::internal("the payment statement paid without an amount")
            })?)?)
        };
        let payment = Payment {
            id: PaymentId(id),
            reservation_ids: request.reservation_ids.to_vec(),
            amount: won("amount")?,
            balance_after: won("balance_after")?,
            paid_at: request.paid_at,
        };
        return Ok(Outcome::Paid(
            payment,
            seen.iter().map(|r| r.schedule_id).collect(),
        ));
    }
    if first
        .try_get::<Option<bool>>("", "claim_lost")
        .map_err(db_err)?
        .unwrap_or(false)
    {
        return Ok(Outcome::ClaimLost);
    }
    let (amount, version) = (
        first
            .try_get::<Option<i64>>("", "balance")
            .map_err(db_err)?,
        first
            .try_get::<Option<i64>>("", "version")
            .map_err(db_err)?,
    );
    let token = first
        .try_get::<Option<String>>("", "token_status")
        .map_err(db_err)?
        .map(|s| s.parse::<QueueStatus>())
        .transpose()
        .map_err(StoreError::from)?;
    Ok(Outcome::Refused(PaymentSnapshot {
        reservations: seen
            .into_iter()
            .map(Reservation::try_from)
            .collect::<Result<_, _>>()?,
        // No balance row yet is an empty balance, as the point store reads it.
        balance: Balance {
            user_id: request.user_id,
            amount: Won::new(amount.unwrap_or(0))?,
            version: version.unwrap_or(0),
        },
        token,
    }))
}

/// The reservation on this answer row, if the statement saw one.
fn seen_reservation(row: &QueryResult) -> Result<Option<reservation::Model>, DomainError> {
    if row
        .try_get::<Option<i64>>("", "r_id")
        .map_err(db_err)?
        .is_none()
    {
        return Ok(None);
    }
    reservation::Model::from_query_result(row, "r_")
        .map(Some)
        .map_err(db_err)
}
