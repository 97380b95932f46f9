use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use domain::payment::refund::Refund;
use domain::payment::Payment;
use domain::PaymentId;

use super::from_json;
use crate::dto::{PaymentRequest, PaymentResponse, PaymentView, RefundResponse};
use crate::extract::{AuthUser, QueueTokenHeader};
use crate::idempotent::idempotent;
use crate::{ApiError, AppState, Metrics};

/// Pay one held reservation (`reservationId`) or several of one concert
/// (`reservationIds`) from the point balance, all or nothing in one atomic
/// step; the caller's queue token for the concert expires. Waiting-list
/// offers are paid without `X-Queue-Token` (a token sent along is not checked
/// and not expired) and cannot be mixed with ordinary holds.
#[utoipa::path(
    tag = "payments",
    request_body = PaymentRequest,
    params(
        ("X-Queue-Token" = Option<String>, Header, description = "the caller's ACTIVE token for the reservations' concert; not needed for waiting-list offers"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 visible ASCII characters (else 400 VALIDATION_FAILED); a repeat within 24 h returns the first response, before any other check"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, body = PaymentResponse),
        (status = 400, description = "VALIDATION_FAILED: neither or both of reservationId and reservationIds, an empty, oversized or repeating list, several concerts, or offers mixed with holds"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE or QUEUE_TOKEN_INVALID"),
        (status = 404, description = "NOT_FOUND: any reservation not the caller's"),
        (status = 409, description = "RESERVATION_EXPIRED, RESERVATION_NOT_PAYABLE, INSUFFICIENT_BALANCE or IDEMPOTENCY_KEY_IN_FLIGHT"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED"),
    )
)]
#[post("/api/v1/payments")]
pub async fn pay(
    state: web::Data<AppState>,
    user: AuthUser,
    queue_token: QueueTokenHeader,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    // The body's form decides the answer's shape; a malformed body fails
    // inside the run, after a replay had its chance.
    let present: fn(&Payment) -> PaymentResponse = if body.get("reservationIds").is_some() {
        |p| PaymentResponse::new(p.clone(), true)
    } else {
        |p| PaymentResponse::new(p.clone(), false)
    };
    let (state, body, queue_token) = (&state, &body, &queue_token);
    idempotent(
        state,
        &req,
        user.0,
        "payment",
        body,
        StatusCode::CREATED,
        present,
        |receipt| async move {
            let input: PaymentRequest = from_json(body.0.clone())?;
            let (ids, _) = input.ids()?;
            let result = state
                .pay_reservation
                .execute(user.0, queue_token.as_deref(), &ids, receipt.as_ref())
                .await
                .map_err(ApiError::from);
            state
                .metrics
                .payments
                .with_label_values(&[Metrics::outcome(&result)])
                .inc();
            result
        },
    )
    .await
}

/// One of the caller's payments.
#[utoipa::path(
    tag = "payments",
    params(("paymentId" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PaymentView),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND, also when it is someone else's"),
    )
)]
#[get("/api/v1/payments/{paymentId}")]
pub async fn get_payment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let payment = state
        .view_payment
        .execute(user.0, PaymentId(path.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(PaymentView::from(payment)))
}

/// Refund a payment in one atomic step: the balance rises by its amount (one
/// REFUND entry; the charge cap does not apply), its reservations become
/// REFUNDED and their seats are free at once (to the waiting list first). No
/// queue token is needed; a refund happens at most once.
#[utoipa::path(
    tag = "payments",
    params(
        ("paymentId" = i64, Path),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 visible ASCII characters (else 400 VALIDATION_FAILED); a repeat within 24 h returns the first response, before any other check"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the payment, now REFUNDED, with the balance after the refund", body = RefundResponse),
        (status = 400, description = "VALIDATION_FAILED: a malformed Idempotency-Key"),
        (status = 401, description = "UNAUTHENTICATED"),
        (status = 404, description = "NOT_FOUND, also when it is someone else's"),
        (status = 409, description = "ALREADY_REFUNDED, REFUND_CLOSED (the earliest schedule starts within reservation.refund_cutoff_secs) or IDEMPOTENCY_KEY_IN_FLIGHT"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED"),
    )
)]
#[post("/api/v1/payments/{paymentId}/refund")]
pub async fn refund(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = PaymentId(path.into_inner());
    let state = &state;
    idempotent(
        state,
        &req,
        user.0,
        "refund",
        &serde_json::Value::Null,
        StatusCode::OK,
        |refund: &Refund| RefundResponse::from(refund.clone()),
        |receipt| async move {
            Ok(state
                .refund_payment
                .execute(user.0, id, receipt.as_ref())
                .await?)
        },
    )
    .await
}
