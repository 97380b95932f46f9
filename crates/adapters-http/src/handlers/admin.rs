use actix_web::{get, patch, web, HttpRequest, HttpResponse};
use domain::ConcertId;

use crate::dto::{QueueControlRequest, QueueControlResponse, SalesResponse};
use crate::extract::AdminCaller;
use crate::{ApiError, AppState};

fn admin_key(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("x-admin-key")
        .and_then(|v| v.to_str().ok())
}

/// Admin: pause or resume a concert's admission, or change its cap, on every
/// instance within one admit interval. An empty body changes nothing and
/// answers the current state.
#[utoipa::path(
    tag = "admin",
    request_body = QueueControlRequest,
    params(
        ("concertId" = i64, Path),
        ("X-Admin-Key" = String, Header, description = "equal to config admin.api_key"),
    ),
    responses(
        (status = 200, body = QueueControlResponse),
        (status = 400, description = "VALIDATION_FAILED: maxActive outside 1-100000, or a wrong type"),
        (status = 403, description = "ADMIN_KEY_INVALID"),
        (status = 404, description = "NOT_FOUND (checked after the key, before the body's ranges)"),
    )
)]
#[patch("/api/v1/admin/concerts/{concertId}/queue")]
pub async fn control_queue(
    _admin: AdminCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<QueueControlRequest>,
) -> Result<HttpResponse, ApiError> {
    let summary = state
        .control_queue
        .execute(
            admin_key(&req),
            ConcertId(path.into_inner()),
            body.paused,
            body.max_active,
        )
        .await?;
    Ok(HttpResponse::Ok().json(QueueControlResponse::from(summary)))
}

/// Admin: how the sale stands. Seats and revenue are exact, from one snapshot
/// of the database; the queue block is read from the queue's store.
#[utoipa::path(
    tag = "admin",
    params(
        ("concertId" = i64, Path),
        ("X-Admin-Key" = String, Header, description = "equal to config admin.api_key"),
    ),
    responses(
        (status = 200, body = SalesResponse),
        (status = 403, description = "ADMIN_KEY_INVALID"),
        (status = 404, description = "NOT_FOUND"),
    )
)]
#[get("/api/v1/admin/concerts/{concertId}/sales")]
pub async fn sales(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .view_sales
        .execute(admin_key(&req), ConcertId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(SalesResponse::from(view)))
}
