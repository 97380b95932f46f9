use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::idempotency::{
    IdempotencyClaim, IdempotencyReceipt, IdempotencyScope, IdempotencyStart, StoredAnswer,
};
use domain::ports::IdempotencyStore;
use domain::{DomainError, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::entity::idempotency_key;
use crate::error::{db_err, is_unique_violation};
use crate::time::to_ms;

/// An in-flight claim older than this belongs to a request whose process
/// died; a retry may take it over rather than wait out the 24 hours.
pub const DEFAULT_TAKEOVER_AFTER: Duration = Duration::seconds(60);

/// Idempotency keys in the database: the primary key makes one claim win.
pub struct DbIdempotencyStore {
    pub db: DatabaseConnection,
    /// How old an unanswered claim must be before a retry may take it over.
    pub takeover_after: Duration,
}

impl DbIdempotencyStore {
    /// A store with the default takeover window.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            takeover_after: DEFAULT_TAKEOVER_AFTER,
        }
    }
}

fn by_scope(scope: &IdempotencyScope) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(idempotency_key::Column::UserId.eq(scope.user_id.0))
        .add(idempotency_key::Column::Endpoint.eq(scope.endpoint))
        .add(idempotency_key::Column::Key.eq(scope.key.as_str()))
}

/// The claim row, only while it is unanswered and still carries this fence
/// (the claim's `created_at_ms`, which a takeover moves forward).
fn unanswered_claim(scope: &IdempotencyScope, fence: i64) -> sea_orm::Condition {
    by_scope(scope)
        .add(idempotency_key::Column::CreatedAtMs.eq(fence))
        .add(idempotency_key::Column::ResponseStatus.is_null())
}

/// Stores `response` on the claim if it is still unanswered and fenced by
/// `fence`; [`StoreError::ClaimTakenOver`] otherwise.
async fn answer_claim(
    db: &impl ConnectionTrait,
    scope: &IdempotencyScope,
    fence: i64,
    response: &StoredAnswer,
) -> Result<(), DomainError> {
    let answered = idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::ResponseStatus,
            Expr::value(i32::from(response.outcome)),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(response.body.clone()),
        )
        .filter(unanswered_claim(scope, fence))
        .exec(db)
        .await
        .map_err(db_err)?;
    if answered.rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::ClaimTakenOver.into())
    }
}

/// Completes the receipt's claim with the answer for `result`, inside the
/// caller's money transaction and before its COMMIT. An error means the claim
/// is no longer this run's: the caller must roll back, or the money would move
/// once for this run and once for the run that took the key over.
pub(crate) async fn complete_in_transaction<T>(
    txn: &impl ConnectionTrait,
    receipt: Option<&IdempotencyReceipt<T>>,
    result: &T,
) -> Result<(), DomainError> {
    match receipt {
        Some(receipt) => {
            answer_claim(txn, &receipt.scope, receipt.fence, &receipt.answer(result)).await
        }
        None => Ok(()),
    }
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
        let claim = || idempotency_key::ActiveModel {
            user_id: Set(scope.user_id.0),
            endpoint: Set(scope.endpoint.to_owned()),
            key: Set(scope.key.as_str().to_owned()),
            request_hash: Set(request_hash.to_owned()),
            response_status: Set(None),
            response_body: Set(None),
            created_at_ms: Set(now_ms),
        };
        let started = |fence| {
            IdempotencyStart::Started(IdempotencyClaim {
                scope: scope.clone(),
                fence,
            })
        };
        // A new key (the usual case) is one INSERT; only a key seen before
        // pays for the look at its old record.
        match idempotency_key::Entity::insert(claim())
            .exec(&self.db)
            .await
        {
            Ok(_) => return Ok(started(now_ms)),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(db_err(e)),
        }
        // A record older than the window no longer answers: forget it, and claim again.
        let forgotten = idempotency_key::Entity::delete_many()
            .filter(by_scope(scope))
            .filter(
                idempotency_key::Column::CreatedAtMs
                    .lte(to_ms(IdempotencyStart::window_start(now))),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        if forgotten.rows_affected > 0 {
            match idempotency_key::Entity::insert(claim())
                .exec(&self.db)
                .await
            {
                Ok(_) => return Ok(started(now_ms)),
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(db_err(e)),
            }
        }
        let existing = idempotency_key::Entity::find()
            .filter(by_scope(scope))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        // Deleted between our insert and our read: its run is still settling.
        let Some(existing) = existing else {
            return Ok(IdempotencyStart::InFlight);
        };
        if existing.request_hash != request_hash {
            return Ok(IdempotencyStart::Reused);
        }
        match (existing.response_status, existing.response_body) {
            (Some(outcome), Some(body)) => Ok(IdempotencyStart::Replay(StoredAnswer {
                outcome: u16::try_from(outcome).map_err(StoreError::internal)?,
                body,
            })),
            _ if existing.created_at_ms <= now_ms - self.takeover_after.num_milliseconds() => {
                let taken = idempotency_key::Entity::update_many()
                    .col_expr(idempotency_key::Column::CreatedAtMs, Expr::value(now_ms))
                    .filter(by_scope(scope))
                    .filter(idempotency_key::Column::ResponseStatus.is_null())
                    .filter(idempotency_key::Column::CreatedAtMs.eq(existing.created_at_ms))
                    .exec(&self.db)
                    .await
                    .map_err(db_err)?;
                // The new created_at_ms is the new fence: the abandoned run, if it
                // still lives, can no longer complete the key (nor move money with it).
                if taken.rows_affected == 1 {
                    Ok(started(now_ms))
                } else {
                    Ok(IdempotencyStart::InFlight)
                }
            }
            _ => Ok(IdempotencyStart::InFlight),
        }
    }

    async fn complete(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredAnswer,
    ) -> Result<(), DomainError> {
        match answer_claim(&self.db, &claim.scope, claim.fence, response).await {
            // Taken over: the run that holds the key now answers for it.
            Err(DomainError::Store(StoreError::ClaimTakenOver)) => Ok(()),
            other => other,
        }
    }

    async fn release(&self, claim: &IdempotencyClaim) -> Result<(), DomainError> {
        idempotency_key::Entity::delete_many()
            .filter(unanswered_claim(&claim.scope, claim.fence))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
