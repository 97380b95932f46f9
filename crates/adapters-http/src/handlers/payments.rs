use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use domain::payment::Payment;
use domain::ReservationId;

use super::from_json;
use crate::dto::{PaymentRequest, PaymentResponse, Problem};
use crate::extract::{AuthUser, QueueTokenHeader};
use crate::idempotent::idempotent;
use crate::{ApiError, AppState, Metrics};

/// Pay a held reservation from the point balance, in one atomic step; the
/// caller's queue token for the concert expires.
#[utoipa::path(
    tag = "payments",
    request_body = PaymentRequest,
    params(
        ("X-Queue-Token" = String, Header, description = "the caller's ACTIVE token for the reservation's concert"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 visible ASCII characters (else 400 VALIDATION_FAILED); a repeat within 24 h returns the first response, before any other check"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, body = PaymentResponse),
        (status = 400, description = "VALIDATION_FAILED", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "QUEUE_TOKEN_NOT_ACTIVE or QUEUE_TOKEN_INVALID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND: not the caller's reservation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "RESERVATION_EXPIRED, RESERVATION_NOT_PAYABLE, INSUFFICIENT_BALANCE or IDEMPOTENCY_KEY_IN_FLIGHT", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
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
    let (state, body, queue_token) = (&state, &body, &queue_token);
    idempotent(
        state,
        &req,
        user.0,
        "payment",
        body,
        StatusCode::CREATED,
        |payment: &Payment| PaymentResponse::from(payment.clone()),
        |receipt| async move {
            let input: PaymentRequest = from_json(body.0.clone())?;
            let result = state
                .pay_reservation
                .execute(
                    user.0,
                    queue_token.as_deref(),
                    ReservationId(input.reservation_id),
                    receipt.as_ref(),
                )
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
