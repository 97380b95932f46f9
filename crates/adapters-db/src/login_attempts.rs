use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::LoginAttempts;
use domain::DomainError;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::login_failure;
use crate::error::db_err;
use crate::time::{from_ms, to_ms};

/// Failed logins in the database, so every instance counts the same.
pub struct DbLoginAttempts {
    pub db: DatabaseConnection,
}

/// Login ids of any length may be tried; only a bounded prefix is kept.
fn key(login_id: &str) -> String {
    login_id.chars().take(64).collect()
}

#[async_trait]
impl LoginAttempts for DbLoginAttempts {
    async fn failures_since(
        &self,
        login_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, DomainError> {
        let rows: Vec<i64> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::AtMs)
            .filter(login_failure::Column::LoginId.eq(key(login_id)))
            .filter(login_failure::Column::AtMs.gt(to_ms(since)))
            .order_by_asc(login_failure::Column::AtMs)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(from_ms).collect())
    }

    async fn record_failure(&self, login_id: &str, at: DateTime<Utc>) -> Result<(), DomainError> {
        login_failure::Entity::insert(login_failure::ActiveModel {
            login_id: Set(key(login_id)),
            at_ms: Set(to_ms(at)),
            ..Default::default()
        })
        .exec(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn clear(&self, login_id: &str) -> Result<(), DomainError> {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::LoginId.eq(key(login_id)))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
