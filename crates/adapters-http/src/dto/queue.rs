use application::QueueView;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueTokenResponse {
    /// Send it back as `X-Queue-Token`.
    pub token: String,
    pub concert_id: i64,
    /// `WAITING`, `ACTIVE` or `EXPIRED`.
    #[schema(example = "WAITING", value_type = QueueStatusName)]
    pub status: &'static str,
    /// For WAITING: 1 + WAITING tokens of the concert issued before this one; else 0.
    pub position: u64,
    /// From the observed admission rate; 0 when ACTIVE.
    pub estimated_wait_seconds: u64,
    /// End of the ACTIVE window; null while WAITING.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<QueueView> for QueueTokenResponse {
    fn from(v: QueueView) -> Self {
        Self {
            token: v.token,
            concert_id: v.concert_id.0,
            status: v.status.as_str(),
            position: v.position,
            estimated_wait_seconds: v.estimated_wait_secs,
            expires_at: v.expires_at,
        }
    }
}

/// A queue token's status.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, dead_code)]
#[derive(ToSchema)]
pub enum QueueStatusName {
    WAITING,
    ACTIVE,
    EXPIRED,
}
