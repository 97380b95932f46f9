use std::sync::Arc;

use async_trait::async_trait;
use domain::idempotency::IdempotencyReceipt;
use domain::payment::{Payment, PaymentDecision};
use domain::ports::PaymentStore;
use domain::reservation::Reservation;
use domain::{DomainError, PaymentId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::entity::{payment, reservation, seat};
use crate::error::{db_err, is_unique_violation};
use crate::idempotency_store::complete_in_transaction;
use crate::point_store::apply_change;
use crate::queue_store::expire_active_token;
use crate::time::to_ms;
use crate::SeatMapCache;

/// Payments: the whole decision in one transaction, or nothing.
pub struct DbPaymentStore {
    pub db: DatabaseConnection,
    /// Told after a seat is sold, so this instance reads its own writes.
    pub seat_maps: Arc<SeatMapCache>,
}

#[async_trait]
impl PaymentStore for DbPaymentStore {
    async fn pay<'a>(
        &self,
        d: &PaymentDecision,
        receipt: Option<&'a IdempotencyReceipt<Payment>>,
    ) -> Result<Payment, DomainError> {
        let paid_at_ms = to_ms(d.paid_at);
        let txn = self.db.begin().await.map_err(db_err)?;
        // Balance first (lock order: user, seat, reservation).
        let balance = apply_change(&txn, &d.debit).await?;
        let sold = seat::Entity::update_many()
            .col_expr(seat::Column::Status, Expr::value("SOLD"))
            .col_expr(
                seat::Column::HoldExpiresAtMs,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(seat::Column::Version, Expr::value(d.seat_version + 1))
            .filter(seat::Column::Id.eq(d.seat_id.0))
            .filter(seat::Column::Version.eq(d.seat_version))
            .filter(seat::Column::Status.eq("HELD"))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let confirmed = reservation::Entity::update_many()
            .col_expr(reservation::Column::Status, Expr::value("CONFIRMED"))
            .filter(reservation::Column::Id.eq(d.reservation_id.0))
            .filter(reservation::Column::Status.eq("HELD"))
            .filter(reservation::Column::ExpiresAtMs.gt(paid_at_ms))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if sold.rows_affected == 0 || confirmed.rows_affected == 0 {
            // Someone paid, cancelled or let it lapse in between: say which.
            let current: Option<Reservation> = reservation::Entity::find_by_id(d.reservation_id.0)
                .one(&txn)
                .await
                .map_err(db_err)?
                .map(Into::into);
            return Err(match current {
                Some(r) => r
                    .ensure_payable(d.paid_at)
                    .err()
                    .unwrap_or(DomainError::ConcurrentModification),
                None => DomainError::not_found(format!("reservation {}", d.reservation_id)),
            });
        }
        let created = payment::ActiveModel {
            reservation_id: Set(d.reservation_id.0),
            user_id: Set(d.debit.user_id.0),
            amount: Set(d.amount.0),
            balance_after: Set(balance.amount.0),
            paid_at_ms: Set(paid_at_ms),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DomainError::ReservationNotPayable("CONFIRMED".into())
            } else {
                db_err(e)
            }
        })?;
        expire_active_token(&txn, d.debit.user_id, d.concert_id, d.paid_at).await?;
        let payment = Payment {
            id: PaymentId(created.id),
            reservation_id: d.reservation_id,
            amount: d.amount,
            balance_after: balance.amount,
            paid_at: d.paid_at,
        };
        complete_in_transaction(&txn, receipt, &payment).await?;
        txn.commit().await.map_err(db_err)?;
        self.seat_maps.invalidate(d.schedule_id.0);
        Ok(payment)
    }
}
