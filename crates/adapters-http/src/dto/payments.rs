use chrono::{DateTime, Utc};
use domain::payment::Payment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    #[schema(minimum = 1, maximum = 9007199254740991.0)]
    pub reservation_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentResponse {
    pub payment_id: i64,
    pub reservation_id: i64,
    pub amount: i64,
    /// The balance right after the payment.
    pub balance: i64,
    pub paid_at: DateTime<Utc>,
}

impl From<Payment> for PaymentResponse {
    fn from(p: Payment) -> Self {
        Self {
            payment_id: p.id.0,
            reservation_id: p.reservation_id.0,
            amount: p.amount.0,
            balance: p.balance_after.0,
            paid_at: p.paid_at,
        }
    }
}
