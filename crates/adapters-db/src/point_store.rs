use async_trait::async_trait;
use domain::idempotency::IdempotencyReceipt;
use domain::points::{Balance, BalanceChange, PointEntry};
use domain::ports::PointStore;
use domain::{DomainError, Page, PageRequest, PointChange, StoreError, UserId, Won};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::entity::{balance, point_entry};
use crate::error::db_err;
use crate::idempotency_store::complete_in_transaction;
use crate::time::{from_ms, to_ms};

/// Balances with optimistic versions, and their history.
pub struct DbPointStore {
    pub db: DatabaseConnection,
}

/// Applies the change if the balance row still has the expected version, and
/// writes its history entry; the caller owns the transaction.
pub(crate) async fn apply_change(
    db: &impl ConnectionTrait,
    change: &BalanceChange,
) -> Result<Balance, DomainError> {
    let updated = balance::Entity::update_many()
        .col_expr(
            balance::Column::Balance,
            Expr::value(change.new_amount.value()),
        )
        .col_expr(
            balance::Column::Version,
            Expr::value(change.expected_version + 1),
        )
        .filter(balance::Column::UserId.eq(change.user_id.0))
        .filter(balance::Column::Version.eq(change.expected_version))
        .exec(db)
        .await
        .map_err(db_err)?;
    if updated.rows_affected == 0 {
        return Err(DomainError::Store(StoreError::Conflict));
    }
    point_entry::Entity::insert(point_entry::ActiveModel {
        user_id: Set(change.user_id.0),
        kind: Set(change.kind.as_str().to_owned()),
        amount: Set(change.delta.value()),
        balance_after: Set(change.new_amount.value()),
        created_at_ms: Set(to_ms(change.at)),
        ..Default::default()
    })
    .exec(db)
    .await
    .map_err(db_err)?;
    Ok(Balance {
        user_id: change.user_id,
        amount: change.new_amount,
        version: change.expected_version + 1,
    })
}

#[async_trait]
impl PointStore for DbPointStore {
    async fn balance(&self, user_id: UserId) -> Result<Balance, DomainError> {
        let row = balance::Entity::find_by_id(user_id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(match row {
            None => Balance {
                user_id,
                amount: Won::ZERO,
                version: 0,
            },
            Some(b) => Balance {
                user_id,
                amount: Won::new(b.balance)?,
                version: b.version,
            },
        })
    }

    async fn apply<'a>(
        &self,
        change: &BalanceChange,
        receipt: Option<&'a IdempotencyReceipt<Balance>>,
    ) -> Result<Balance, DomainError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let balance = apply_change(&txn, change).await?;
        // Dropping the transaction on an error rolls the charge back.
        complete_in_transaction(&txn, receipt, &balance).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(balance)
    }

    async fn history(
        &self,
        user_id: UserId,
        page: PageRequest,
    ) -> Result<Page<PointEntry>, DomainError> {
        let mut query =
            point_entry::Entity::find().filter(point_entry::Column::UserId.eq(user_id.0));
        if let Some(after) = page.after() {
            query = query.filter(point_entry::Column::Id.lt(after));
        }
        let rows = query
            .order_by_desc(point_entry::Column::Id)
            .limit(page.fetch())
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(Page::from_rows(rows, page, |m| m.id).try_map(|m| {
            Ok::<_, StoreError>(PointEntry {
                kind: m.kind.parse()?,
                amount: PointChange::new(m.amount),
                balance_after: Won::new(m.balance_after)?,
                created_at: from_ms(m.created_at_ms),
            })
        })?)
    }
}
