use actix_web::http::header::{self, ContentType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use application::ConcertRequest;
use domain::{ConcertId, DomainError, ScheduleId, StoreError};

use crate::dto::{ConcertCreated, ConcertList, NewConcertRequest, ScheduleList, SeatMapResponse};
use crate::extract::{AdminCaller, AuthUser, QueueTokenHeader};
use crate::paging::{next_cursor, PageParams, PageQuery};
use crate::seat_map_body::accepts_gzip;
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
///
/// Every answer carries an `ETag` (weak, a hash of the map's content, the same
/// on every instance): sent back in `If-None-Match`, it is answered 304 with no
/// body while the map is unchanged. A client that accepts gzip gets the map
/// gzipped (the bytes are compressed once per change of the map).
#[utoipa::path(
    tag = "concerts",
    params(
        ("concertId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"),
        ("scheduleId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404"),
        ("X-Queue-Token" = String, Header, description = "the caller's ACTIVE token for this concert"),
        ("If-None-Match" = Option<String>, Header, description = "the `ETag` of a map the caller has: 304 while the map is unchanged"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE (still waiting) or QUEUE_TOKEN_INVALID"),
        (status = 404, description = "NOT_FOUND: no such schedule of this concert (checked before the queue token)"),
        (status = 200, body = SeatMapResponse, headers(
            ("ETag" = String, description = "weak validator of this map's content (`W/\"…\"`); changes when any seat's status changes"),
            ("Cache-Control" = String, description = "`private, no-cache`: revalidate with If-None-Match"),
        )),
        (status = 304, description = "NOT MODIFIED: If-None-Match names the current map; no body", headers(
            ("ETag" = String, description = "the current map's validator"),
        )),
        (status = 503, description = "SERVICE_UNAVAILABLE: overloaded (no database connection free in time) or a store is down; `Retry-After` (seconds) says when to try again", headers(("Retry-After" = u32, description = "seconds to wait before retrying"))),
    )
)]
#[get("/api/v1/concerts/{concertId}/schedules/{scheduleId}/seats")]
pub async fn seat_map(
    state: web::Data<AppState>,
    user: AuthUser,
    queue_token: QueueTokenHeader,
    path: web::Path<(i64, i64)>,
    req: HttpRequest,
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
    let answer = state
        .seat_map_bodies
        .answer(&map)
        .map_err(|e| DomainError::from(StoreError::internal(e)))?;
    let headers = req.headers();
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tag| answer.matches(tag));
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, answer.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if unchanged {
        return Ok(response.finish());
    }
    response.content_type(ContentType::json());
    // The stored gzip bytes go out as they are: the Compress middleware
    // leaves a body alone once it names its encoding.
    Ok(if accepts_gzip(headers.get(header::ACCEPT_ENCODING)) {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(answer.gzip().clone())
    } else {
        response.body(answer.json.clone())
    })
}
