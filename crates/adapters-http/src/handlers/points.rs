use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use domain::points::Balance;
use domain::UserId;

use super::from_json;
use crate::dto::{BalanceResponse, ChargeRequest, PointHistory};
use crate::extract::AuthUser;
use crate::idempotent::idempotent;
use crate::paging::{next_cursor, PageParams, PageQuery};
use crate::{ApiError, AppState};

/// The caller's own balance.
#[utoipa::path(
    tag = "points",
    params(("userId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = BalanceResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "FORBIDDEN: another user's points"),
        (status = 404, description = "NOT_FOUND: a userId that is not an integer"),
    )
)]
#[get("/api/v1/users/{userId}/points")]
pub async fn get_balance(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let found = state
        .view_points
        .balance(user.0, UserId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(BalanceResponse::from(found)))
}

/// Charge points. Concurrent charges all land: a lost optimistic race is retried inside the server.
#[utoipa::path(
    tag = "points",
    request_body = ChargeRequest,
    params(
        ("userId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 visible ASCII characters (else 400 VALIDATION_FAILED); a repeat within 24 h returns the first response"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = BalanceResponse),
        (status = 400, description = "VALIDATION_FAILED: amount not an integer 1-10,000,000, or a bad Idempotency-Key"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "FORBIDDEN"),
        (status = 404, description = "NOT_FOUND: a userId that is not an integer"),
        (status = 409, description = "BALANCE_LIMIT_EXCEEDED, CONCURRENT_MODIFICATION (retries exhausted) or IDEMPOTENCY_KEY_IN_FLIGHT"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED"),
    )
)]
#[post("/api/v1/users/{userId}/points/charge")]
pub async fn charge(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let owner = UserId(path.into_inner());
    let (state, body) = (&state, &body);
    idempotent(
        state,
        &req,
        user.0,
        "charge",
        body,
        StatusCode::OK,
        |balance: &Balance| BalanceResponse::from(*balance),
        |receipt| async move {
            let input: ChargeRequest = from_json(body.0.clone())?;
            Ok(state
                .charge_points
                .execute(user.0, owner, input.amount, receipt.as_ref())
                .await?)
        },
    )
    .await
}

/// The caller's point history, newest first.
#[utoipa::path(
    tag = "points",
    params(("userId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PointHistory),
        (status = 400, description = "VALIDATION_FAILED: limit outside 1–500 or a malformed cursor"),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "FORBIDDEN"),
        (status = 404, description = "NOT_FOUND: a userId that is not an integer"),
    )
)]
#[get("/api/v1/users/{userId}/points/history")]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    page: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let entries = state
        .view_points
        .history(user.0, UserId(path.into_inner()), page.0)
        .await?;
    Ok(HttpResponse::Ok().json(PointHistory {
        next_cursor: next_cursor(&entries),
        entries: entries.items.into_iter().map(Into::into).collect(),
    }))
}
