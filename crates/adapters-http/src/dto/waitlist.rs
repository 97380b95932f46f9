use chrono::{DateTime, Utc};
use domain::waitlist::WaitlistEntry;
use domain::{DomainError, WaitlistEntryId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One place on a schedule's waiting list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntryResponse {
    pub entry_id: i64,
    pub schedule_id: i64,
    /// `WAITING`, `OFFERED`, `FULFILLED`, `LAPSED` or `LEFT`.
    #[schema(example = "WAITING")]
    pub status: &'static str,
    /// 1 + WAITING entries of the schedule made before it; null unless WAITING.
    pub position: Option<u32>,
    /// The offered hold (pay it without X-Queue-Token); null unless OFFERED or later.
    pub reservation_id: Option<i64>,
    /// When the offered hold lapses; null unless OFFERED or later.
    pub offer_expires_at: Option<DateTime<Utc>>,
}

impl From<WaitlistEntry> for WaitlistEntryResponse {
    fn from(e: WaitlistEntry) -> Self {
        Self {
            entry_id: e.id.0,
            schedule_id: e.schedule_id.0,
            status: e.status.as_str(),
            position: e.position,
            reservation_id: e.reservation_id.map(|r| r.0),
            offer_expires_at: e.offer_expires_at,
        }
    }
}

/// A page of the caller's entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntryList {
    pub entries: Vec<WaitlistEntryResponse>,
    /// Pass as `?after=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `?limit=` (1–500, default 100) and `?after=<cursor>`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistPageQuery {
    /// 1–500, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500, default = 100)]
    pub limit: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub after: Option<String>,
}

impl WaitlistPageQuery {
    /// The page size and the cursor, or 400.
    pub fn parse(&self) -> Result<(u32, Option<WaitlistEntryId>), DomainError> {
        let limit = match &self.limit {
            None => 100,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=500).contains(l))
                .ok_or_else(|| DomainError::validation("limit must be an integer 1-500"))?,
        };
        let after = match &self.after {
            None => None,
            Some(raw) => Some(WaitlistEntryId(
                // Exactly what `nextCursor` holds (and the document's pattern).
                Some(raw)
                    .filter(|r| {
                        (1..=18).contains(&r.len())
                            && !r.starts_with('0')
                            && r.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|r| r.parse::<i64>().ok())
                    .ok_or_else(|| DomainError::validation("after is not a cursor of this list"))?,
            )),
        };
        Ok((limit, after))
    }
}
