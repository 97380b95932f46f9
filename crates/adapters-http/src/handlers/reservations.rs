use actix_web::{delete, get, post, web, HttpResponse};
use domain::{ReservationId, ScheduleId, SeatId};

use crate::dto::{HoldRequest, Problem, ReservationList, ReservationResponse};
use crate::extract::{AuthUser, QueueTokenHeader};
use crate::{ApiError, AppState, Metrics};

/// Hold a seat for `reservation.hold_ttl_secs`.
#[utoipa::path(
    tag = "reservations",
    request_body = HoldRequest,
    params(("X-Queue-Token" = String, Header, description = "the caller's ACTIVE token for the seat's concert")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = ReservationResponse),
        (status = 400, description = "VALIDATION_FAILED", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE or QUEUE_TOKEN_INVALID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND: no such seat in that schedule (checked before the queue token)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SEAT_UNAVAILABLE, HOLD_LIMIT_EXCEEDED, TICKET_LIMIT_EXCEEDED (the caller's live holds plus paid seats of this concert reach its maxTicketsPerUser; checked after HOLD_LIMIT_EXCEEDED) or SCHEDULE_CLOSED", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reservations")]
pub async fn hold_seat(
    state: web::Data<AppState>,
    user: AuthUser,
    queue_token: QueueTokenHeader,
    body: web::Json<HoldRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .hold_seat
        .execute(
            user.0,
            queue_token.as_deref(),
            ScheduleId(body.schedule_id),
            SeatId(body.seat_id),
        )
        .await
        .map_err(ApiError::from);
    state
        .metrics
        .reservations
        .with_label_values(&[Metrics::outcome(&result)])
        .inc();
    Ok(HttpResponse::Created().json(ReservationResponse::from(result?)))
}

/// The caller's reservations, newest first.
#[utoipa::path(
    tag = "reservations",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReservationList),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reservations")]
pub async fn list_reservations(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let list = state.view_reservations.list(user.0).await?;
    Ok(HttpResponse::Ok().json(ReservationList {
        reservations: list.into_iter().map(Into::into).collect(),
    }))
}

/// One of the caller's reservations.
#[utoipa::path(
    tag = "reservations",
    params(("reservationId" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReservationResponse),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND, also when it is someone else's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reservations/{reservationId}")]
pub async fn get_reservation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let r = state
        .view_reservations
        .get(user.0, ReservationId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(ReservationResponse::from(r)))
}

/// Cancel a held reservation; the seat is free at once.
#[utoipa::path(
    tag = "reservations",
    params(("reservationId" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the reservation, now CANCELLED", body = ReservationResponse),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "RESERVATION_NOT_CANCELLABLE: confirmed, expired or already cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/reservations/{reservationId}")]
pub async fn cancel_reservation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let r = state
        .cancel_reservation
        .execute(user.0, ReservationId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(ReservationResponse::from(r)))
}
