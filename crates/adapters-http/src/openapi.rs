use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::*;
use crate::handlers::{concerts, ops, payments, points, queue, reservations, users};

/// The OpenAPI document of the whole contract, served at `/api-docs/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concert reservation service",
        description = "Sign up, queue for a concert, hold a seat and pay with points.\n\n\
Choices where the contract is silent:\n\
- Every error is application/problem+json with a `code`. A non-integer id in a path is 404 NOT_FOUND; an unknown route is 404 NOT_FOUND; a JSON body over 16 KiB is 413 PAYLOAD_TOO_LARGE; a body that is not `application/json` is 400 VALIDATION_FAILED.\n\
- 429 TOO_MANY_ATTEMPTS carries `Retry-After` (seconds). A successful login clears the failure count.\n\
- The seat map and seat holds answer 404 for a schedule or seat that does not exist before looking at the queue token.\n\
- Idempotency-Key: requests are the same when method, path and JSON body (keys sorted) are; 2xx and 4xx answers are kept and replayed, a 5xx releases the key so a retry runs again; a claim left in flight for 60 s by a crashed request may be taken over.\n\
- Point history `amount` is signed: PAYMENT entries are negative, so the balance is the sum of the amounts.\n\
- Timestamps have millisecond precision.\n\
- Any endpoint whose store (the database, or Redis for the queue) does not answer replies 503 SERVICE_UNAVAILABLE within a few seconds.\n\
- With several holds racing for one seat, exactly one wins; the others get 409 SEAT_UNAVAILABLE at once (no server-side retry).\n\
- Limits are stated as JSON Schema on each field and parameter. Integers are JSON integers written without a fraction or exponent (`1.0` is 400). Ids in paths are documented as 1 to 2^53-1; anything else names nothing (404).\n\
- A schedule's `startsAt` must be in the future and at most 10 years (of 365 days) ahead: else 400 VALIDATION_FAILED.\n\
- A string containing U+0000 anywhere in a JSON body is 400 VALIDATION_FAILED on every endpoint, before authentication.\n\
- A token whose user does not exist (a database reset with a shared secret) is 401 UNAUTHENTICATED; an instance may trust a user it confirmed within the last 10 seconds.\n\
- A wrong method on a known path is 405 METHOD_NOT_ALLOWED with `Allow`. A request body not received within 5 s is 408 REQUEST_TIMEOUT. A request not answered within 30 s (a frozen database link), one stuck more than 5 s on a database lock, or one waiting more than 3 s for a database connection, is 503 SERVICE_UNAVAILABLE. Every 503 carries `Retry-After`.\n\
- Idempotency-Key: a charge or payment keeps its answer in the same transaction as the money it moves, so after a crash a retry with the key returns the committed answer; if a request's claim was taken over (after 60 s) the slower run is rolled back with 409 IDEMPOTENCY_KEY_IN_FLIGHT and moves no money.",
        version = "1.0.0"
    ),
    paths(
        users::sign_up, users::log_in,
        concerts::create_concert, concerts::list_concerts, concerts::list_schedules, concerts::seat_map,
        queue::join_queue, queue::current_token,
        reservations::hold_seat, reservations::list_reservations, reservations::get_reservation, reservations::cancel_reservation,
        points::get_balance, points::charge, points::history,
        payments::pay,
        ops::live, ops::ready, ops::metrics,
    ),
    components(schemas(
        Problem, ErrorCode, SeatStatusName, PointEntryTypeName, ReservationStatusName, QueueStatusName, Credentials, UserCreated, AccessTokenResponse,
        NewConcertRequest, NewScheduleRequest, ConcertCreated, ScheduleCreated, ConcertSummary, ConcertList,
        ScheduleList, ScheduleSummary, SeatMapResponse, SeatView, QueueTokenResponse,
        HoldRequest, ReservationResponse, ReservationList,
        ChargeRequest, BalanceResponse, PointHistory, PointEntryView, PaymentRequest, PaymentResponse,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}
