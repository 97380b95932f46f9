use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// RFC 9457 problem details with the contract's `code`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"type":"about:blank","title":"Conflict","status":409,"detail":"seat 7 is not available","code":"SEAT_UNAVAILABLE"}))]
pub struct Problem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable error code.
    #[schema(value_type = ErrorCode)]
    pub code: String,
}

/// Every `code` a problem may carry.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, non_camel_case_types, dead_code)]
#[derive(ToSchema)]
pub enum ErrorCode {
    VALIDATION_FAILED,
    LOGIN_ID_TAKEN,
    INVALID_CREDENTIALS,
    TOO_MANY_ATTEMPTS,
    UNAUTHENTICATED,
    FORBIDDEN,
    ADMIN_KEY_INVALID,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    PAYLOAD_TOO_LARGE,
    URI_TOO_LONG,
    UNSUPPORTED_MEDIA_TYPE,
    REQUEST_HEADER_FIELDS_TOO_LARGE,
    BAD_REQUEST,
    QUEUE_TOKEN_INVALID,
    QUEUE_TOKEN_NOT_ACTIVE,
    SEAT_UNAVAILABLE,
    HOLD_LIMIT_EXCEEDED,
    SCHEDULE_CLOSED,
    RESERVATION_NOT_CANCELLABLE,
    RESERVATION_EXPIRED,
    RESERVATION_NOT_PAYABLE,
    INSUFFICIENT_BALANCE,
    BALANCE_LIMIT_EXCEEDED,
    CONCURRENT_MODIFICATION,
    IDEMPOTENCY_KEY_REUSED,
    IDEMPOTENCY_KEY_IN_FLIGHT,
    SERVICE_UNAVAILABLE,
    SALE_NOT_OPEN,
    TICKET_LIMIT_EXCEEDED,
    ALREADY_REFUNDED,
    REFUND_CLOSED,
    SEATS_AVAILABLE,
    WAITLIST_ENTRY_CLOSED,
    TOO_MANY_REQUESTS,
    INTERNAL_ERROR,
}
