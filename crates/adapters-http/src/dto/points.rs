use chrono::{DateTime, Utc};
use domain::points::{Balance, PointEntry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChargeRequest {
    /// Integer won, 1–10,000,000.
    #[schema(minimum = 1, maximum = 10000000)]
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceResponse {
    pub user_id: i64,
    pub balance: i64,
}

impl From<Balance> for BalanceResponse {
    fn from(b: Balance) -> Self {
        Self {
            user_id: b.user_id.0,
            balance: b.amount.value(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointHistory {
    /// Newest first; the balance is the sum of every `amount`.
    pub entries: Vec<PointEntryView>,
    /// Pass as `?after=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointEntryView {
    /// `CHARGE`, `PAYMENT` or `REFUND`.
    #[schema(example = "CHARGE", value_type = PointEntryTypeName)]
    pub r#type: &'static str,
    /// Signed: payments are negative.
    pub amount: i64,
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
}

impl From<PointEntry> for PointEntryView {
    fn from(e: PointEntry) -> Self {
        Self {
            r#type: e.kind.as_str(),
            amount: e.amount.value(),
            balance_after: e.balance_after.value(),
            created_at: e.created_at,
        }
    }
}

/// Why a balance changed.
// Schema only (an enum in the OpenAPI document): never built.
#[allow(clippy::upper_case_acronyms, dead_code)]
#[derive(ToSchema)]
pub enum PointEntryTypeName {
    CHARGE,
    PAYMENT,
    REFUND,
}
