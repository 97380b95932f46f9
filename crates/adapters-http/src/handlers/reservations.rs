use actix_web::{delete, get, post, web, HttpResponse};
use domain::{ReservationId, ScheduleId, SeatId};

use crate::dto::{HoldRequest, ReservationList, ReservationResponse};
use crate::extract::{AuthUser, QueueTokenHeader};
use crate::paging::{next_cursor, PageParams, PageQuery};
use crate::{ApiError, AppState, Metrics};

/// Hold a seat for `reservation.hold_ttl_secs`.
#[utoipa::path(
    tag = "reservations",
    request_body = HoldRequest,
    params(("X-Queue-Token" = String, Header, description = "the caller's ACTIVE token for the seat's concert")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = ReservationResponse),
        (status = 400, description = "VALIDATION_FAILED"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE or QUEUE_TOKEN_INVALID"),
        (status = 404, description = "NOT_FOUND: no such seat in that schedule (checked before the queue token)"),
        (status = 409, description = "SEAT_UNAVAILABLE, HOLD_LIMIT_EXCEEDED, TICKET_LIMIT_EXCEEDED (the caller's live holds plus paid seats of this concert reach its maxTicketsPerUser; checked after HOLD_LIMIT_EXCEEDED) or SCHEDULE_CLOSED"),
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
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReservationList),
        (status = 400, description = "VALIDATION_FAILED: limit outside 1–500 or a malformed cursor"),
        (status = 401, description = "UNAUTHENTICATED"),
    )
)]
#[get("/api/v1/reservations")]
pub async fn list_reservations(
    state: web::Data<AppState>,
    user: AuthUser,
    page: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let list = state.view_reservations.list(user.0, page.0).await?;
    Ok(HttpResponse::Ok().json(ReservationList {
        next_cursor: next_cursor(&list),
        reservations: list.items.into_iter().map(Into::into).collect(),
    }))
}

/// One of the caller's reservations.
#[utoipa::path(
    tag = "reservations",
    params(("reservationId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReservationResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND, also when it is someone else's"),
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
    params(("reservationId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the reservation, now CANCELLED", body = ReservationResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND"),
        (status = 409, description = "RESERVATION_NOT_CANCELLABLE: confirmed, expired or already cancelled"),
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
