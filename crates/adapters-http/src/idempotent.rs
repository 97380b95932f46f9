//! `Idempotency-Key` on the money endpoints: a repeat gets the first answer.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use domain::idempotency::{IdempotencyStart, StoredResponse};
use domain::{DomainError, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::problem_response;
use crate::{ApiError, AppState};

/// Runs `run` at most once per (user, endpoint, key), answering repeats from
/// the stored response. Without a key it simply runs.
pub async fn idempotent<T, F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    user_id: UserId,
    endpoint: &'static str,
    body: &serde_json::Value,
    success: StatusCode,
    run: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(key) = req.headers().get("idempotency-key") else {
        return Ok(HttpResponse::build(success).json(run().await?));
    };
    let key = key.to_str().unwrap_or("\u{0}");
    let (scope, start) = state
        .idempotency
        .start(user_id, endpoint, key, &request_hash(req, body))
        .await?;
    if let IdempotencyStart::Replay(stored) = start {
        return Ok(replay(&stored));
    }
    let (stored, transient) = match run().await {
        Ok(value) => {
            let body =
                serde_json::to_string(&value).map_err(|e| DomainError::Internal(e.to_string()))?;
            (
                StoredResponse {
                    status: success.as_u16(),
                    body,
                },
                false,
            )
        }
        Err(error) => {
            // A lost race is not an answer to keep: the retry should run again.
            let transient = matches!(error, ApiError::Domain(DomainError::ConcurrentModification));
            let body = serde_json::to_string(&error.problem()).unwrap_or_default();
            (
                StoredResponse {
                    status: error.status_code().as_u16(),
                    body,
                },
                transient,
            )
        }
    };
    state
        .idempotency
        .finish(&scope, stored.clone(), transient)
        .await;
    Ok(replay(&stored))
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

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    if status.is_success() {
        HttpResponse::build(status)
            .content_type("application/json")
            .body(stored.body.clone())
    } else {
        problem_response(status, &stored.body)
    }
}
