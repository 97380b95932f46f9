//! `Idempotency-Key` on the money endpoints: a repeat gets the first answer.
//!
//! Wholly HTTP: the store port keeps an opaque answer (`outcome` + body); here
//! `outcome` is the HTTP status, and which answers are final is decided here.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use domain::idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyReceipt, IdempotencyScope, IdempotencyStart,
    StoredAnswer,
};
use domain::ports::{Clock, IdempotencyStore};
use domain::{DomainError, StoreError, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::problem_response;
use crate::{ApiError, AppState};

/// The store behind `Idempotency-Key`: claim a key, keep a run's answer for
/// repeats. A success that moved money is kept by the store inside the money
/// transaction (the claim travels as an `IdempotencyReceipt`); `finish` keeps
/// every other answer afterwards.
pub struct Idempotency {
    pub store: Arc<dyn IdempotencyStore>,
    pub clock: Arc<dyn Clock>,
}

impl Idempotency {
    /// Claims `key` for this request, or says what to answer instead.
    async fn start(
        &self,
        user_id: UserId,
        endpoint: &'static str,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyStart, DomainError> {
        let scope = IdempotencyScope {
            user_id,
            endpoint,
            key: IdempotencyKey::parse(key)?,
        };
        self.store
            .start(&scope, request_hash, self.clock.now())
            .await
    }

    /// Keeps the answer of a request that ran to a definite outcome without
    /// moving money (a crash before this only means the retry runs again). A
    /// server failure (5xx) or a transient conflict releases the key instead,
    /// so that the retry runs again rather than replaying a non-final failure.
    async fn finish(
        &self,
        claim: &IdempotencyClaim,
        status: StatusCode,
        body: String,
        transient: bool,
    ) {
        let result = if transient || status.is_server_error() {
            self.store.release(claim).await
        } else {
            let answer = StoredAnswer {
                outcome: status.as_u16(),
                body,
            };
            self.store.complete(claim, &answer).await
        };
        if let Err(error) = result {
            let error = crate::error::Chain(&error);
            tracing::warn!(%error, "idempotency record could not be finished");
        }
    }
}

/// Runs `run` at most once per (user, endpoint, key), answering repeats from
/// the stored response. Without a key it simply runs.
///
/// `run` gets the receipt to hand to the money transaction: a success is kept
/// by the store before its COMMIT (rendered with `present`), so a crash after
/// the commit still replays the success. Refusals are kept afterwards; server
/// failures and transient conflicts release the key for the retry.
#[allow(clippy::too_many_arguments)]
pub async fn idempotent<T, V, F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    user_id: UserId,
    endpoint: &'static str,
    body: &serde_json::Value,
    success: StatusCode,
    present: fn(&T) -> V,
    run: F,
) -> Result<HttpResponse, ApiError>
where
    T: 'static,
    V: Serialize + 'static,
    F: FnOnce(Option<IdempotencyReceipt<T>>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let render: Arc<dyn Fn(&T) -> StoredAnswer + Send + Sync> =
        Arc::new(move |value: &T| StoredAnswer {
            outcome: success.as_u16(),
            // Plain DTOs of numbers and strings: serialising cannot fail.
            body: serde_json::to_string(&present(value)).unwrap_or_default(),
        });
    let Some(key) = req.headers().get("idempotency-key") else {
        let value = run(None).await?;
        return Ok(replay(&render(&value)));
    };
    let key = key.to_str().unwrap_or("\u{0}");
    let claim = match state
        .idempotency
        .start(user_id, endpoint, key, &request_hash(req, body))
        .await?
    {
        IdempotencyStart::Replay(stored) => return Ok(replay(&stored)),
        IdempotencyStart::Reused => return Err(ApiError::IdempotencyKeyReused),
        IdempotencyStart::InFlight => return Err(ApiError::IdempotencyKeyInFlight),
        IdempotencyStart::Started(claim) => claim,
    };
    let receipt = IdempotencyReceipt::new(&claim, render.clone());
    match run(Some(receipt)).await {
        // Already kept with the money, in the same transaction.
        Ok(value) => Ok(replay(&render(&value))),
        // The claim was taken over: the run that holds it answers for the key.
        Err(ApiError::Domain(DomainError::Store(StoreError::ClaimTakenOver))) => {
            Err(ApiError::IdempotencyKeyInFlight)
        }
        Err(error) => {
            // A lost race is not an answer to keep: the retry should run again.
            let transient = matches!(&error, ApiError::Domain(e) if e.is_conflict());
            let body = serde_json::to_string(&error.problem()).unwrap_or_default();
            state
                .idempotency
                .finish(&claim, error.status_code(), body, transient)
                .await;
            Err(error)
        }
    }
}

/// Method, path and the parsed body (canonical: keys sorted), so that
/// whitespace or key order in a retry does not count as a different request.
fn request_hash(req: &HttpRequest, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.path());
    hasher.update(b"\n");
    hasher.update(body.to_string());
    hex::encode(hasher.finalize())
}

fn replay(stored: &StoredAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(stored.outcome).unwrap_or(StatusCode::OK);
    if status.is_success() {
        return HttpResponse::build(status)
            .content_type("application/json")
            .body(stored.body.clone());
    }
    let mut response = problem_response(status, &stored.body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Never stored today (5xx releases the key), but every 503 says when to retry.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockIdempotencyStore};

    fn service(store: MockIdempotencyStore) -> Idempotency {
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        Idempotency {
            store: Arc::new(store),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn bad_key_is_refused_before_the_store() {
        let err = service(MockIdempotencyStore::new())
            .start(UserId(1), "charge", "has space", "h")
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Validation(_)));
    }

    #[tokio::test]
    async fn server_failures_release_definite_answers_complete() {
        let mut store = MockIdempotencyStore::new();
        store.expect_release().times(2).returning(|_| Ok(()));
        store
            .expect_complete()
            .times(1)
            .withf(|_, answer| answer.outcome == 409 && answer.body == "{}")
            .returning(|_, _| Ok(()));
        let idempotency = service(store);
        let claim = IdempotencyClaim {
            scope: IdempotencyScope {
                user_id: UserId(1),
                endpoint: "payment",
                key: IdempotencyKey::parse("k").unwrap(),
            },
            fence: 1,
        };
        let finish =
            |status, transient| idempotency.finish(&claim, status, "{}".to_owned(), transient);
        finish(StatusCode::SERVICE_UNAVAILABLE, false).await;
        // A lost race releases even though 409 is otherwise a final answer.
        finish(StatusCode::CONFLICT, true).await;
        finish(StatusCode::CONFLICT, false).await;
    }
}
