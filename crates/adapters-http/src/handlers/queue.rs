use actix_web::{get, post, web, HttpResponse};
use domain::ConcertId;

use crate::dto::QueueTokenResponse;
use crate::extract::{AuthUser, QueueTokenHeader};
use crate::limits::{self, RateLimited};
use crate::{ApiError, AppState};

/// Join a concert's waiting line, or get back the live token already held.
/// Before the sale opens (within the pre-queue window) the new token is
/// PREQUEUE; its place is drawn at random at the opening.
#[utoipa::path(
    tag = "queue",
    params(("concertId" = i64, Path, minimum = 1, maximum = 9007199254740991.0, description = "1 to 2^53-1 (exact in every JSON client); other ids name nothing: 404")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "a new token", body = QueueTokenResponse),
        (status = 200, description = "the caller's live (PREQUEUE, WAITING or ACTIVE) token for the concert", body = QueueTokenResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND"),
        (status = 429, description = "TOO_MANY_REQUESTS: the per-address join limit (config limits.join_per_minute); Retry-After tells when"),
        (status = 409, description = "SALE_NOT_OPEN: earlier than queue.prequeue_opens_secs before the concert's saleOpensAt"),
        (status = 503, description = "SERVICE_UNAVAILABLE: overloaded (no database connection free in time) or a store is down; `Retry-After` (seconds) says when to try again", headers(("Retry-After" = u32, description = "seconds to wait before retrying"))),
    )
)]
#[post("/api/v1/concerts/{concertId}/queue/tokens")]
pub async fn join_queue(
    _limit: RateLimited<limits::JoinQueue>,
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (view, created) = state
        .join_queue
        .execute(user.0, ConcertId(path.into_inner()))
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(QueueTokenResponse::from(view)))
}

/// Poll a queue token (any status).
#[utoipa::path(
    tag = "queue",
    params(("X-Queue-Token" = String, Header)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = QueueTokenResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "QUEUE_TOKEN_INVALID: missing, unknown or someone else's"),
        (status = 503, description = "SERVICE_UNAVAILABLE: overloaded (no database connection free in time) or a store is down; `Retry-After` (seconds) says when to try again", headers(("Retry-After" = u32, description = "seconds to wait before retrying"))),
    )
)]
#[get("/api/v1/queue/tokens/current")]
pub async fn current_token(
    state: web::Data<AppState>,
    user: AuthUser,
    queue_token: QueueTokenHeader,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .view_queue_token
        .execute(user.0, queue_token.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(QueueTokenResponse::from(view)))
}
