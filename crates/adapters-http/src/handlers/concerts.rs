use actix_web::{get, post, web, HttpRequest, HttpResponse};
use application::ConcertRequest;
use domain::{ConcertId, ScheduleId};

use crate::dto::{ConcertCreated, ConcertList, NewConcertRequest, ScheduleList, SeatMapResponse};
use crate::extract::{AdminCaller, AuthUser, QueueTokenHeader};
use crate::paging::{next_cursor, PageParams, PageQuery};
use crate::{ApiError, AppState};

/// Admin: create a concert with its schedules; every schedule gets seats 1..seatCount.
#[utoipa::path(
    tag = "concerts",
    request_body = NewConcertRequest,
    params(("X-Admin-Key" = String, Header, description = "equal to config admin.api_key")),
    responses(
        (status = 201, body = ConcertCreated),
        (status = 400, description = "VALIDATION_FAILED"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 403, description = "ADMIN_KEY_INVALID, also when no key is configured"),
    )
)]
#[post("/api/v1/admin/concerts")]
pub async fn create_concert(
    _admin: AdminCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewConcertRequest>,
) -> Result<HttpResponse, ApiError> {
    let admin_key = req
        .headers()
        .get("x-admin-key")
        .and_then(|v| v.to_str().ok());
    let schedules: Vec<_> = body
        .schedules
        .iter()
        .map(|s| (s.starts_at, s.seat_count, s.price))
        .collect();
    let request = ConcertRequest {
        title: &body.title,
        venue: &body.venue,
        schedules: &schedules,
        sale_opens_at: body.sale_opens_at,
        max_tickets_per_user: body.max_tickets_per_user,
    };
    let created = state.create_concert.execute(admin_key, request).await?;
    Ok(HttpResponse::Created().json(ConcertCreated::from(created)))
}

/// The catalogue, by concertId ascending, one page at a time.
#[utoipa::path(
    tag = "concerts",
    params(PageParams),
    responses(
        (status = 200, body = ConcertList),
        (status = 400, description = "VALIDATION_FAILED: limit outside 1–500 or a malformed cursor"),
    )
)]
#[get("/api/v1/concerts")]
pub async fn list_concerts(
    state: web::Data<AppState>,
    page: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let concerts = state.list_concerts.execute(page.0).await?;
    Ok(HttpResponse::Ok().json(ConcertList {
        next_cursor: next_cursor(&concerts),
        concerts: concerts.items.into_iter().map(Into::into).collect(),
    }))
}

/// A concert's upcoming schedules, earliest first, with free seat counts.
#[utoipa::path(
    tag = "concerts",
    params(("concertId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404")),
    responses(
        (status = 200, body = ScheduleList),
        (status = 404, description = "NOT_FOUND"),
    )
)]
#[get("/api/v1/concerts/{concertId}/schedules")]
pub async fn list_schedules(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let concert_id = path.into_inner();
    let schedules = state.list_schedules.execute(ConcertId(concert_id)).await?;
    Ok(HttpResponse::Ok().json(ScheduleList {
        concert_id,
        schedules: schedules.into_iter().map(Into::into).collect(),
    }))
}

/// The seat map of a schedule, for callers the queue has admitted.
#[utoipa::path(
    tag = "concerts",
    params(
        ("concertId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"),
        ("scheduleId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"),
        ("X-Queue-Token" = String, Header, description = "the caller's ACTIVE token for this concert"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = SeatMapResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE (still waiting) or QUEUE_TOKEN_INVALID"),
        (status = 404, description = "NOT_FOUND: no such schedule of this concert (checked before the queue token)"),
    )
)]
#[get("/api/v1/concerts/{concertId}/schedules/{scheduleId}/seats")]
pub async fn seat_map(
    state: web::Data<AppState>,
    user: AuthUser,
    queue_token: QueueTokenHeader,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (concert_id, schedule_id) = path.into_inner();
    let map = state
        .view_seat_map
        .execute(
            user.0,
            queue_token.as_deref(),
            ConcertId(concert_id),
            ScheduleId(schedule_id),
        )
        .await?;
    Ok(HttpResponse::Ok().json(SeatMapResponse {
        schedule_id: map.schedule_id.0,
        seats: map.seats.into_iter().map(Into::into).collect(),
    }))
}
