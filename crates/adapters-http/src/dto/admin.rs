use application::{QueueSummary, SalesView};
use chrono::{DateTime, Utc};
use domain::sales::ScheduleSales;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueControlRequest {
    /// Stop (true) or resume (false) admission; absent keeps it.
    #[serde(default)]
    pub paused: Option<bool>,
    /// 1–100000: replaces `queue.max_active_per_concert` for this concert;
    /// absent keeps it. Lowering it expires nobody.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_active: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueControlResponse {
    pub concert_id: i64,
    pub paused: bool,
    /// The cap in force: the concert's own, else the configured one.
    pub max_active: u32,
    pub prequeued: u64,
    pub waiting: u64,
    /// ACTIVE tokens whose window has not ended.
    pub active: u64,
}

impl From<QueueSummary> for QueueControlResponse {
    fn from(q: QueueSummary) -> Self {
        Self {
            concert_id: q.concert_id.0,
            paused: q.paused,
            max_active: q.max_active,
            prequeued: q.prequeued,
            waiting: q.waiting,
            active: q.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueSalesView {
    pub paused: bool,
    pub max_active: u32,
    pub prequeued: u64,
    pub waiting: u64,
    pub active: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSalesView {
    pub schedule_id: i64,
    pub total_seats: u32,
    /// Seats neither held nor sold: `available + held + sold = totalSeats`.
    pub available: u32,
    /// Seats under a live hold.
    pub held: u32,
    pub sold: u32,
    /// Won: the prices of the schedule's paid, unrefunded reservations.
    pub revenue: i64,
}

impl From<ScheduleSales> for ScheduleSalesView {
    fn from(s: ScheduleSales) -> Self {
        Self {
            schedule_id: s.schedule_id.0,
            total_seats: s.total_seats,
            available: s.available(),
            held: s.held,
            sold: s.sold,
            revenue: s.revenue.value(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesResponse {
    pub concert_id: i64,
    pub sale_opens_at: DateTime<Utc>,
    pub queue: QueueSalesView,
    /// Every schedule, earliest first; seats and revenue from one snapshot.
    pub schedules: Vec<ScheduleSalesView>,
    /// Won: the schedules' revenue summed.
    pub revenue: i64,
}

impl From<SalesView> for SalesResponse {
    fn from(v: SalesView) -> Self {
        Self {
            concert_id: v.concert_id.0,
            sale_opens_at: v.sale_opens_at,
            queue: QueueSalesView {
                paused: v.queue.paused,
                max_active: v.queue.max_active,
                prequeued: v.queue.prequeued,
                waiting: v.queue.waiting,
                active: v.queue.active,
            },
            schedules: v.schedules.into_iter().map(Into::into).collect(),
            revenue: v.revenue.value(),
        }
    }
}
