use actix_web::{delete, get, post, web, HttpResponse};
use domain::{ConcertId, ScheduleId, WaitlistEntryId};

use crate::dto::{WaitlistEntryList, WaitlistEntryResponse, WaitlistPageQuery};
use crate::extract::AuthUser;
use crate::{ApiError, AppState};

/// Join a sold-out schedule's waiting list. A freed seat goes to the first
/// WAITING entry as a HELD reservation (the entry becomes OFFERED), paid with
/// `POST /api/v1/payments` without a queue token. No queue token is needed to join.
#[utoipa::path(
    tag = "waitlist",
    params(("concertId" = i64, Path), ("scheduleId" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "a new WAITING entry", body = WaitlistEntryResponse),
        (status = 200, description = "the caller's live (WAITING or OFFERED) entry for the schedule", body = WaitlistEntryResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND: no such schedule of that concert"),
        (status = 409, description = "in this order: SALE_NOT_OPEN, SCHEDULE_CLOSED, TICKET_LIMIT_EXCEEDED (the caller owns the concert's limit), SEATS_AVAILABLE (hold one instead)"),
    )
)]
#[post("/api/v1/concerts/{concertId}/schedules/{scheduleId}/waitlist")]
pub async fn join_waitlist(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (concert_id, schedule_id) = path.into_inner();
    let (entry, created) = state
        .join_waitlist
        .execute(user.0, ConcertId(concert_id), ScheduleId(schedule_id))
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(WaitlistEntryResponse::from(entry)))
}

/// The caller's waiting-list entries, newest first, paged.
#[utoipa::path(
    tag = "waitlist",
    params(WaitlistPageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = WaitlistEntryList),
        (status = 400, description = "VALIDATION_FAILED: a bad limit or cursor"),
        (status = 401, description = "UNAUTHENTICATED"),
    )
)]
#[get("/api/v1/waitlist")]
pub async fn list_waitlist(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<WaitlistPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = query.parse()?;
    let page = state.waitlist_entries.list(user.0, limit, after).await?;
    Ok(HttpResponse::Ok().json(WaitlistEntryList {
        entries: page.entries.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|id| id.0.to_string()),
    }))
}

/// Leave a waiting list (only while WAITING).
#[utoipa::path(
    tag = "waitlist",
    params(("entryId" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the entry, now LEFT", body = WaitlistEntryResponse),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND, also when it is someone else's"),
        (status = 409, description = "WAITLIST_ENTRY_CLOSED: not WAITING"),
    )
)]
#[delete("/api/v1/waitlist/{entryId}")]
pub async fn leave_waitlist(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let entry = state
        .waitlist_entries
        .leave(user.0, WaitlistEntryId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(WaitlistEntryResponse::from(entry)))
}
