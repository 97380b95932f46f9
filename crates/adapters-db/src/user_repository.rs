use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::UserRepository;
use domain::user::{LoginId, User};
use domain::{DomainError, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::entity::{balance, user};
use crate::error::{db_err, is_unique_violation};
use crate::time::to_ms;

/// Users, each created with an empty balance in the same transaction.
pub struct DbUserRepository {
    pub db: DatabaseConnection,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        User {
            id: UserId(m.id),
            login_id: m.login_id,
            password_hash: m.password_hash,
        }
    }
}

#[async_trait]
impl UserRepository for DbUserRepository {
    async fn create(
        &self,
        login_id: &LoginId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DomainError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let created = user::ActiveModel {
            login_id: Set(login_id.as_str().to_owned()),
            password_hash: Set(password_hash.to_owned()),
            created_at_ms: Set(to_ms(now)),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DomainError::LoginIdTaken
            } else {
                db_err(e)
            }
        })?;
        balance::ActiveModel {
            user_id: Set(created.id),
            balance: Set(0),
            version: Set(0),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(created.into())
    }

    async fn find_by_login_id(&self, login_id: &str) -> Result<Option<User>, DomainError> {
        user::Entity::find()
            .filter(user::Column::LoginId.eq(login_id))
            .one(&self.db)
            .await
            .map(|m| m.map(Into::into))
            .map_err(db_err)
    }

    async fn exists(&self, id: UserId) -> Result<bool, DomainError> {
        let found = user::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }
}
