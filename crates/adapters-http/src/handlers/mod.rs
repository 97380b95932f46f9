//! Thin handlers: parse, call one use case, map the result.

pub mod admin;
pub mod concerts;
pub mod ops;
pub mod payments;
pub mod points;
pub mod queue;
pub mod reservations;
pub mod users;
pub mod waitlist;

use serde::de::DeserializeOwned;

use crate::ApiError;

/// Reads a typed body out of an already-parsed JSON value (the money
/// endpoints keep the raw value to hash it for idempotency).
pub(crate) fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::Domain(domain::DomainError::validation(format!(
            "invalid body: {e}"
        )))
    })
}
