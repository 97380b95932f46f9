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
    pub code: String,
}
