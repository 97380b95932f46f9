use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::idempotency::{IdempotencyScope, IdempotencyStart, StoredResponse};
use domain::ports::IdempotencyStore;
use domain::DomainError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::entity::idempotency_key;
use crate::error::{db_err, is_unique_violation};
use crate::time::to_ms;

/// An in-flight claim older than this belongs to a request whose process
/// died; a retry may take it over rather than wait out the 24 hours.
const ABANDONED_AFTER_SECS: i64 = 60;

/// Idempotency keys in the database: the primary key makes one claim win.
pub struct DbIdempotencyStore {
    pub db: DatabaseConnection,
}

fn by_scope(scope: &IdempotencyScope) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(idempotency_key::Column::UserId.eq(scope.user_id.0))
        .add(idempotency_key::Column::Endpoint.eq(scope.endpoint))
        .add(idempotency_key::Column::Key.eq(scope.key.as_str()))
}

#[async_trait]
impl IdempotencyStore for DbIdempotencyStore {
    async fn start(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, DomainError> {
        let now_ms = to_ms(now);
        // A record older than the window no longer answers: forget it.
        idempotency_key::Entity::delete_many()
            .filter(by_scope(scope))
            .filter(
                idempotency_key::Column::CreatedAtMs
                    .lte(to_ms(IdempotencyStart::window_start(now))),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        let claim = idempotency_key::ActiveModel {
            user_id: Set(scope.user_id.0),
            endpoint: Set(scope.endpoint.to_owned()),
            key: Set(scope.key.as_str().to_owned()),
            request_hash: Set(request_hash.to_owned()),
            response_status: Set(None),
            response_body: Set(None),
            created_at_ms: Set(now_ms),
        };
        match idempotency_key::Entity::insert(claim).exec(&self.db).await {
            Ok(_) => return Ok(IdempotencyStart::Started),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(db_err(e)),
        }
        let existing = idempotency_key::Entity::find()
            .filter(by_scope(scope))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(DomainError::IdempotencyKeyInFlight)?;
        if existing.request_hash != request_hash {
            return Err(DomainError::IdempotencyKeyReused);
        }
        match (existing.response_status, existing.response_body) {
            (Some(status), Some(body)) => Ok(IdempotencyStart::Replay(StoredResponse {
                status: status as u16,
                body,
            })),
            _ if existing.created_at_ms
                <= now_ms - Duration::seconds(ABANDONED_AFTER_SECS).num_milliseconds() =>
            {
                let taken = idempotency_key::Entity::update_many()
                    .col_expr(idempotency_key::Column::CreatedAtMs, Expr::value(now_ms))
                    .filter(by_scope(scope))
                    .filter(idempotency_key::Column::ResponseStatus.is_null())
                    .filter(idempotency_key::Column::CreatedAtMs.eq(existing.created_at_ms))
                    .exec(&self.db)
                    .await
                    .map_err(db_err)?;
                if taken.rows_affected == 1 {
                    Ok(IdempotencyStart::Started)
                } else {
                    Err(DomainError::IdempotencyKeyInFlight)
                }
            }
            _ => Err(DomainError::IdempotencyKeyInFlight),
        }
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        response: &StoredResponse,
    ) -> Result<(), DomainError> {
        idempotency_key::Entity::update_many()
            .col_expr(
                idempotency_key::Column::ResponseStatus,
                Expr::value(i32::from(response.status)),
            )
            .col_expr(
                idempotency_key::Column::ResponseBody,
                Expr::value(response.body.clone()),
            )
            .filter(by_scope(scope))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn release(&self, scope: &IdempotencyScope) -> Result<(), DomainError> {
        idempotency_key::Entity::delete_many()
            .filter(by_scope(scope))
            .filter(idempotency_key::Column::ResponseStatus.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
