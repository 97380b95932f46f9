//! The contract's error table, in one place: domain error → status + code.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use domain::DomainError;

use crate::dto::Problem;

/// An error on its way to the client as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    RouteNotFound(String),
    /// A per-client-IP rate limit (sign-up, login, queue join) is exhausted.
    #[error("too many requests from this address; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::RouteNotFound(_) => "NOT_FOUND",
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Domain(e) => match e {
                DomainError::Validation(_) => "VALIDATION_FAILED",
                DomainError::LoginIdTaken => "LOGIN_ID_TAKEN",
                DomainError::InvalidCredentials => "INVALID_CREDENTIALS",
                DomainError::TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
                DomainError::Unauthenticated => "UNAUTHENTICATED",
                DomainError::Forbidden(_) => "FORBIDDEN",
                DomainError::AdminKeyInvalid => "ADMIN_KEY_INVALID",
                DomainError::NotFound(_) => "NOT_FOUND",
                DomainError::QueueTokenInvalid => "QUEUE_TOKEN_INVALID",
                DomainError::QueueTokenNotActive => "QUEUE_TOKEN_NOT_ACTIVE",
                DomainError::SeatUnavailable(_) => "SEAT_UNAVAILABLE",
                DomainError::HoldLimitExceeded { .. } => "HOLD_LIMIT_EXCEEDED",
                DomainError::ScheduleClosed => "SCHEDULE_CLOSED",
                DomainError::ReservationNotCancellable(_) => "RESERVATION_NOT_CANCELLABLE",
                DomainError::ReservationExpired => "RESERVATION_EXPIRED",
                DomainError::ReservationNotPayable(_) => "RESERVATION_NOT_PAYABLE",
                DomainError::InsufficientBalance { .. } => "INSUFFICIENT_BALANCE",
                DomainError::BalanceLimitExceeded { .. } => "BALANCE_LIMIT_EXCEEDED",
                DomainError::ConcurrentModification => "CONCURRENT_MODIFICATION",
                DomainError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
                DomainError::IdempotencyKeyInFlight => "IDEMPOTENCY_KEY_IN_FLIGHT",
                DomainError::Unavailable(_) => "SERVICE_UNAVAILABLE",
                DomainError::Internal(_) => "INTERNAL_ERROR",
            },
        }
    }

    /// What the client is told; internal details stay in the log.
    fn detail(&self) -> String {
        match self {
            Self::Domain(DomainError::Unavailable(_)) => {
                "a dependency is unavailable; retry shortly".into()
            }
            Self::Domain(DomainError::Internal(_)) => "unexpected server error".into(),
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
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Domain(e) => match e {
                DomainError::Validation(_) => StatusCode::BAD_REQUEST,
                DomainError::InvalidCredentials | DomainError::Unauthenticated => {
                    StatusCode::UNAUTHORIZED
                }
                DomainError::Forbidden(_)
                | DomainError::AdminKeyInvalid
                | DomainError::QueueTokenInvalid
                | DomainError::QueueTokenNotActive => StatusCode::FORBIDDEN,
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                DomainError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
                DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                DomainError::LoginIdTaken
                | DomainError::SeatUnavailable(_)
                | DomainError::HoldLimitExceeded { .. }
                | DomainError::ScheduleClosed
                | DomainError::ReservationNotCancellable(_)
                | DomainError::ReservationExpired
                | DomainError::ReservationNotPayable(_)
                | DomainError::InsufficientBalance { .. }
                | DomainError::BalanceLimitExceeded { .. }
                | DomainError::ConcurrentModification
                | DomainError::IdempotencyKeyInFlight => StatusCode::CONFLICT,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = problem_response(
            self.status_code(),
            &serde_json::to_string(&self.problem()).unwrap_or_default(),
        );
        let retry_after = match self {
            Self::Domain(DomainError::TooManyAttempts { retry_after_secs })
            | Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            // Overload or an outage: tell clients to back off instead of hammering.
            Self::Domain(DomainError::Unavailable(_)) => Some(1),
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

/// A problem+json response from an already serialised body (also used for replays).
pub(crate) fn problem_response(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(body.to_owned())
}
