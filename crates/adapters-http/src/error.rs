//! The contract's error table, in one place: domain error → status + code.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use application::AppError;
use domain::{DomainError, StoreError};

use crate::dto::Problem;

/// An error on its way to the client as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No valid access token.
    #[error("a valid access token is required")]
    Unauthenticated,
    /// The admin key is missing, wrong or not configured.
    #[error("admin key is missing or wrong")]
    AdminKeyInvalid,
    /// The idempotency key came with a different request.
    #[error("idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this idempotency key is still running.
    #[error("a request with this idempotency key is still in progress")]
    IdempotencyKeyInFlight,
    /// A bug in this layer's own wiring.
    #[error("internal error: {0}")]
    Internal(&'static str),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    RouteNotFound(String),
    /// What the HTTP layer itself refuses before any use case runs (a parser
    /// error, a timeout, a wrong method): the status is kept, the code follows it.
    #[error("{1}")]
    Http(StatusCode, String),
    /// A per-client-IP rate limit (sign-up, login, queue join) is exhausted.
    #[error("too many requests from this address; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The instance already works on its limit of requests (`server.max_requests_in_flight`).
    #[error("the server is at its limit of {max_in_flight} requests in flight; retry shortly")]
    Overloaded { max_in_flight: usize },
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::RouteNotFound(_) => "NOT_FOUND",
            Self::Http(status, _) => http_code(*status),
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Overloaded { .. } => "SERVICE_UNAVAILABLE",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::AdminKeyInvalid => "ADMIN_KEY_INVALID",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::IdempotencyKeyInFlight => "IDEMPOTENCY_KEY_IN_FLIGHT",
            Self::Internal(_) => "INTERNAL_ERROR",
            Self::Domain(e) => match e {
                DomainError::Validation(_) => "VALIDATION_FAILED",
                DomainError::LoginIdTaken => "LOGIN_ID_TAKEN",
                DomainError::InvalidCredentials => "INVALID_CREDENTIALS",
                DomainError::TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
                DomainError::Forbidden(_) => "FORBIDDEN",
                DomainError::NotFound(_) => "NOT_FOUND",
                DomainError::QueueTokenInvalid => "QUEUE_TOKEN_INVALID",
                DomainError::QueueTokenNotActive => "QUEUE_TOKEN_NOT_ACTIVE",
                DomainError::SeatUnavailable { .. } => "SEAT_UNAVAILABLE",
                DomainError::HoldLimitExceeded { .. } => "HOLD_LIMIT_EXCEEDED",
                DomainError::ScheduleClosed => "SCHEDULE_CLOSED",
                DomainError::ReservationNotCancellable(_) => "RESERVATION_NOT_CANCELLABLE",
                DomainError::ReservationExpired => "RESERVATION_EXPIRED",
                DomainError::ReservationNotPayable(_) => "RESERVATION_NOT_PAYABLE",
                DomainError::InsufficientBalance { .. } => "INSUFFICIENT_BALANCE",
                DomainError::BalanceLimitExceeded { .. } => "BALANCE_LIMIT_EXCEEDED",
                DomainError::Store(StoreError::Conflict) => "CONCURRENT_MODIFICATION",
                DomainError::Store(StoreError::ClaimTakenOver) => "IDEMPOTENCY_KEY_IN_FLIGHT",
                DomainError::SaleNotOpen => "SALE_NOT_OPEN",
                DomainError::TicketLimitExceeded { .. } => "TICKET_LIMIT_EXCEEDED",
                DomainError::Store(StoreError::Unavailable(_)) => "SERVICE_UNAVAILABLE",
                DomainError::Store(StoreError::Internal(_)) | DomainError::AmountOverflow(_) => {
                    "INTERNAL_ERROR"
                }
                DomainError::AlreadyRefunded => "ALREADY_REFUNDED",
                DomainError::RefundClosed => "REFUND_CLOSED",
                DomainError::SeatsAvailable => "SEATS_AVAILABLE",
                DomainError::WaitlistEntryClosed(_) => "WAITLIST_ENTRY_CLOSED",
            },
        }
    }

    /// What the client is told; internal details stay in the log.
    fn detail(&self) -> String {
        match self {
            Self::Domain(DomainError::Store(StoreError::Unavailable(_))) => {
                "a dependency is unavailable; retry shortly".into()
            }
            Self::Domain(
                DomainError::Store(StoreError::Internal(_)) | DomainError::AmountOverflow(_),
            )
            | Self::Internal(_) => "unexpected server error".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            r#type: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().into(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Self::Http(status, _) => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::AdminKeyInvalid => StatusCode::FORBIDDEN,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyKeyInFlight => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Domain(e) => match e {
                DomainError::Validation(_) => StatusCode::BAD_REQUEST,
                DomainError::InvalidCredentials => StatusCode::UNAUTHORIZED,
                DomainError::Forbidden(_)
                | DomainError::QueueTokenInvalid
                | DomainError::QueueTokenNotActive => StatusCode::FORBIDDEN,
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                DomainError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
                DomainError::Store(StoreError::Internal(_)) | DomainError::AmountOverflow(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                DomainError::LoginIdTaken
                | DomainError::SeatUnavailable { .. }
                | DomainError::HoldLimitExceeded { .. }
                | DomainError::ScheduleClosed
                | DomainError::ReservationNotCancellable(_)
                | DomainError::ReservationExpired
                | DomainError::ReservationNotPayable(_)
                | DomainError::InsufficientBalance { .. }
                | DomainError::BalanceLimitExceeded { .. }
                | DomainError::Store(StoreError::Conflict | StoreError::ClaimTakenOver)
                | DomainError::SaleNotOpen
                | DomainError::TicketLimitExceeded { .. }
                | DomainError::AlreadyRefunded
                | DomainError::RefundClosed
                | DomainError::SeatsAvailable
                | DomainError::WaitlistEntryClosed(_) => StatusCode::CONFLICT,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Shedding is the designed answer to a rush, one per refused request:
        // it is counted in the metrics, not logged as a failure.
        if self.status_code().is_server_error() && !matches!(self, Self::Overloaded { .. }) {
            // The whole cause chain, for the log only: the client gets `detail`.
            tracing::error!(error = %Chain(self), "request failed");
        }
        let mut response = problem_response(
            self.status_code(),
            &serde_json::to_string(&self.problem()).unwrap_or_default(),
        );
        let retry_after = match self {
            Self::Domain(DomainError::TooManyAttempts { retry_after_secs })
            | Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            // Overload or an outage: tell clients to back off instead of hammering.
            Self::Domain(DomainError::Store(StoreError::Unavailable(_))) => Some(1),
            Self::Http(StatusCode::SERVICE_UNAVAILABLE, _) | Self::Overloaded { .. } => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The `code` of an error the HTTP layer meets itself, by its status.
fn http_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "VALIDATION_FAILED",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        413 => "PAYLOAD_TOO_LARGE",
        414 => "URI_TOO_LONG",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        431 => "REQUEST_HEADER_FIELDS_TOO_LARGE",
        503 => "SERVICE_UNAVAILABLE",
        500..=599 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    }
}

/// A problem+json response from an already serialised body (also used for replays).
pub(crate) fn problem_response(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(body.to_owned())
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Unauthenticated => Self::Unauthenticated,
            AppError::AdminKeyInvalid => Self::AdminKeyInvalid,
            AppError::Domain(e) => Self::Domain(e),
        }
    }
}

/// Shows an error and every `source` under it, `outer: inner: innermost`.
pub(crate) struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(what: &str) -> std::io::Error {
        std::io::Error::other(what.to_owned())
    }

    #[test]
    fn each_layer_maps_to_its_status_and_code() {
        let cases: [(ApiError, u16, &str); 7] = [
            (AppError::Unauthenticated.into(), 401, "UNAUTHENTICATED"),
            (AppError::AdminKeyInvalid.into(), 403, "ADMIN_KEY_INVALID"),
            (
                ApiError::IdempotencyKeyReused,
                422,
                "IDEMPOTENCY_KEY_REUSED",
            ),
            (
                DomainError::from(StoreError::ClaimTakenOver).into(),
                409,
                "IDEMPOTENCY_KEY_IN_FLIGHT",
            ),
            (
                DomainError::from(StoreError::Conflict).into(),
                409,
                "CONCURRENT_MODIFICATION",
            ),
            (
                DomainError::from(StoreError::unavailable(io("reset"))).into(),
                503,
                "SERVICE_UNAVAILABLE",
            ),
            (
                DomainError::from(StoreError::internal(io("bad row"))).into(),
                500,
                "INTERNAL_ERROR",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status_code().as_u16(), error.code()), (status, code));
        }
    }

    #[test]
    fn the_cause_reaches_the_log_not_the_client() {
        let error = ApiError::from(DomainError::from(StoreError::unavailable(io(
            "connection reset by peer",
        ))));
        assert_eq!(
            Chain(&error).to_string(),
            "a dependency is unavailable: connection reset by peer"
        );
        assert_eq!(
            error.problem().detail,
            "a dependency is unavailable; retry shortly"
        );
    }
}
