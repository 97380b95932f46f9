use chrono::{DateTime, Utc};
use domain::reservation::Reservation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldRequest {
    #[schema(minimum = 1, maximum = 9007199254740991.0)]
    pub schedule_id: i64,
    #[schema(minimum = 1, maximum = 9007199254740991.0)]
    pub seat_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationResponse {
    pub reservation_id: i64,
    pub schedule_id: i64,
    pub seat_id: i64,
    pub seat_number: u32,
    pub price: i64,
    /// `HELD`, `CONFIRMED`, `EXPIRED`, `CANCELLED` or `REFUNDED`.
    #[schema(example = "HELD", value_type = ReservationStatusName)]
    pub status: &'static str,
    /// When an unpaid hold lapses.
    pub expires_at: DateTime<Utc>,
}

impl From<Reservation> for ReservationResponse {
    fn from(r: Reservation) -> Self {
        Self {
            reservation_id: r.id.0,
            schedule_id: r.schedule_id.0,
            seat_id: r.seat_id.0,
            seat_number: r.seat_number,
            price: r.price.value(),
            status: r.status.as_str(),
            expires_at: r.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationList {
    /// The caller's reservations, newest first.
    pub reservations: Vec<ReservationResponse>,
    /// Pass as `?after=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A reservation's status.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, dead_code)]
#[derive(ToSchema)]
pub enum ReservationStatusName {
    HELD,
    CONFIRMED,
    EXPIRED,
    CANCELLED,
    REFUNDED,
}
