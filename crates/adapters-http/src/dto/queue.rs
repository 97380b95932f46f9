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
    /// `PREQUEUE`, `WAITING`, `ACTIVE` or `EXPIRED`.
    #[schema(example = "WAITING", value_type = QueueStatusName)]
    pub status: &'static str,
    /// For WAITING: 1 + WAITING tokens of the concert ahead of it in line
    /// order (a token issued after the opening but before the draw also counts
    /// the pre-queue ahead of it); 0 for ACTIVE and EXPIRED; null for PREQUEUE.
    pub position: Option<u64>,
    /// From the observed admission rate; 0 when ACTIVE; null for PREQUEUE.
    pub estimated_wait_seconds: Option<u64>,
    /// End of the ACTIVE window; null while PREQUEUE or WAITING.
    pub expires_at: Option<DateTime<Utc>>,
    /// When to poll again: 0 when ACTIVE or EXPIRED; for WAITING 250 ms plus
    /// 5 ms per place ahead, at most 30 s; for PREQUEUE the time left to the
    /// opening, from 250 ms to 30 s.
    pub poll_after_ms: u64,
    /// The concert's sale opening.
    pub sale_opens_at: DateTime<Utc>,
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
            poll_after_ms: v.poll_after_ms,
            sale_opens_at: v.sale_opens_at,
        }
    }
}

/// A queue token's status.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, dead_code)]
#[derive(ToSchema)]
pub enum QueueStatusName {
    PREQUEUE,
    WAITING,
    ACTIVE,
    EXPIRED,
}
