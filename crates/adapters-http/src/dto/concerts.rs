use chrono::{DateTime, Utc};
use domain::concert::{Concert, CreatedConcert, ScheduleAvailability};
use domain::seat::{Seat, SeatStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewConcertRequest {
    /// 1–200 characters, without leading or trailing spaces.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\s\u0000]([^\u0000]*[^\s\u0000])?$"
    )]
    pub title: String,
    /// 1–200 characters, without leading or trailing spaces.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\s\u0000]([^\u0000]*[^\s\u0000])?$"
    )]
    pub venue: String,
    /// 1–50 schedules.
    #[schema(min_items = 1, max_items = 50)]
    pub schedules: Vec<NewScheduleRequest>,
    /// When the sale opens (RFC 3339). Absent: the creation time, so the sale
    /// is open at once and there is no pre-queue.
    #[serde(default)]
    pub sale_opens_at: Option<DateTime<Utc>>,
    /// 1–50 seats one user may own of this concert. Absent: config
    /// `reservation.max_tickets_per_user`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub max_tickets_per_user: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewScheduleRequest {
    /// In the future and at most 10 years ahead (365-day years); else 400.
    pub starts_at: DateTime<Utc>,
    /// 1–2000; seats are numbered 1..seatCount.
    #[schema(minimum = 1, maximum = 2000)]
    pub seat_count: i64,
    /// Won, 1–10,000,000.
    #[schema(minimum = 1, maximum = 10000000)]
    pub price: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConcertCreated {
    pub concert_id: i64,
    pub title: String,
    pub venue: String,
    pub sale_opens_at: DateTime<Utc>,
    pub max_tickets_per_user: u32,
    pub schedules: Vec<ScheduleCreated>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleCreated {
    pub schedule_id: i64,
    pub starts_at: DateTime<Utc>,
    pub seat_count: u32,
    pub price: i64,
}

impl From<CreatedConcert> for ConcertCreated {
    fn from(c: CreatedConcert) -> Self {
        Self {
            concert_id: c.concert.id.0,
            title: c.concert.title,
            venue: c.concert.venue,
            sale_opens_at: c.concert.sale_opens_at,
            max_tickets_per_user: c.concert.max_tickets_per_user,
            schedules: c
                .schedules
                .into_iter()
                .map(|s| ScheduleCreated {
                    schedule_id: s.id.0,
                    starts_at: s.starts_at,
                    seat_count: s.seat_count,
                    price: s.price.value(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConcertSummary {
    pub concert_id: i64,
    pub title: String,
    pub venue: String,
    /// When the sale opens; joining the queue is allowed from
    /// `queue.prequeue_opens_secs` before it (the pre-queue).
    pub sale_opens_at: DateTime<Utc>,
    /// Seats one user may own of this concert (live holds + paid).
    pub max_tickets_per_user: u32,
}

impl From<Concert> for ConcertSummary {
    fn from(c: Concert) -> Self {
        Self {
            concert_id: c.id.0,
            title: c.title,
            venue: c.venue,
            sale_opens_at: c.sale_opens_at,
            max_tickets_per_user: c.max_tickets_per_user,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConcertList {
    /// By `concertId` ascending.
    pub concerts: Vec<ConcertSummary>,
    /// Pass as `?after=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleList {
    pub concert_id: i64,
    /// Schedules that start in the future, earliest first.
    pub schedules: Vec<ScheduleSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSummary {
    pub schedule_id: i64,
    pub starts_at: DateTime<Utc>,
    pub price: i64,
    pub total_seats: u32,
    /// Seats neither sold nor under a live hold.
    pub available_seats: u32,
}

impl From<ScheduleAvailability> for ScheduleSummary {
    fn from(s: ScheduleAvailability) -> Self {
        Self {
            schedule_id: s.schedule.id.0,
            starts_at: s.schedule.starts_at,
            price: s.schedule.price.value(),
            total_seats: s.schedule.seat_count,
            available_seats: s.available_seats,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatMapResponse {
    pub schedule_id: i64,
    /// Every seat, by seat number.
    pub seats: Vec<SeatView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatView {
    pub seat_id: i64,
    pub seat_number: u32,
    pub price: i64,
    /// `AVAILABLE`, `HELD` or `SOLD`; a hold past its expiry shows `AVAILABLE`.
    #[schema(example = "AVAILABLE", value_type = SeatStatusName)]
    pub status: &'static str,
}

impl From<(&Seat, SeatStatus)> for SeatView {
    fn from((seat, status): (&Seat, SeatStatus)) -> Self {
        Self {
            seat_id: seat.id.0,
            seat_number: seat.seat_number,
            price: seat.price.value(),
            status: status.as_str(),
        }
    }
}

/// A seat's status as shown.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, dead_code)]
#[derive(ToSchema)]
pub enum SeatStatusName {
    AVAILABLE,
    HELD,
    SOLD,
}
