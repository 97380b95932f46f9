use actix_web::{get, web, HttpResponse, ResponseError};
use domain::{DomainError, StoreError};

use crate::{ApiError, AppState};

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, description = "alive")))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "UP"}))
}

/// Readiness: the stores answer.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "SERVICE_UNAVAILABLE: a store does not answer"))
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.readiness.ready().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "UP"}))
    } else {
        ApiError::from(DomainError::Store(StoreError::unavailable(
            "store not answering",
        )))
        .error_response()
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
