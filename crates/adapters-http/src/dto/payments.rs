use chrono::{DateTime, Utc};
use domain::payment::refund::Refund;
use domain::payment::{Payment, PaymentRecord};
use domain::{DomainError, ReservationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Either `reservationId` (one seat) or `reservationIds` (1 to
/// `reservation.max_holds_per_user` distinct ids of one concert), not both.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    pub reservation_id: Option<i64>,
    pub reservation_ids: Option<Vec<i64>>,
}

/// The upper bound of `reservation.max_holds_per_user` (bootstrap's settings
/// refuse more), so the most ids a payment can ever carry.
pub const MAX_HOLDS_CAP: usize = 50;

/// The "one of the two forms" rule as JSON Schema: exactly one branch holds,
/// so a body with both ids (or neither) is invalid, as the server says (400).
impl utoipa::PartialSchema for PaymentRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let id = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1))
                .maximum(Some(9_007_199_254_740_991_i64))
        };
        // The other form's member may be null or left out.
        let absent = || ObjectBuilder::new().schema_type(Type::Null);
        OneOfBuilder::new()
            .description(Some(
                "Either `reservationId` (one seat) or `reservationIds` (1 to \
                 `reservation.max_holds_per_user` distinct ids of one concert; that \
                 setting is 1-50, default 4, and `maxItems` states its upper bound), not both.",
            ))
            .item(
                ObjectBuilder::new()
                    .property("reservationId", id())
                    .property("reservationIds", absent())
                    .required("reservationId"),
            )
            .item(
                ObjectBuilder::new()
                    .property(
                        "reservationIds",
                        ArrayBuilder::new()
                            .items(id())
                            .min_items(Some(1))
                            .max_items(Some(MAX_HOLDS_CAP))
                            .unique_items(true),
                    )
                    .property("reservationId", absent())
                    .required("reservationIds"),
            )
            .into()
    }
}

impl ToSchema for PaymentRequest {}

impl PaymentRequest {
    /// The ids to pay, and whether the body used the multi-seat form.
    pub fn ids(&self) -> Result<(Vec<ReservationId>, bool), DomainError> {
        match (&self.reservation_id, &self.reservation_ids) {
            (Some(id), None) => Ok((vec![ReservationId(*id)], false)),
            (None, Some(ids)) => Ok((ids.iter().map(|&id| ReservationId(id)).collect(), true)),
            _ => Err(DomainError::validation(
                "give either reservationId or reservationIds",
            )),
        }
    }
}

/// The single-id body's answer is unchanged; the multi-seat body's adds
/// `reservationIds` (request order) and keeps `reservationId` only for one id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentResponse {
    pub payment_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_ids: Option<Vec<i64>>,
    /// The sum of the reservations' prices.
    pub amount: i64,
    /// The balance right after the payment.
    pub balance: i64,
    pub paid_at: DateTime<Utc>,
}

impl PaymentResponse {
    pub fn new(p: Payment, multi: bool) -> Self {
        let ids: Vec<i64> = p.reservation_ids.iter().map(|id| id.0).collect();
        Self {
            payment_id: p.id.0,
            reservation_id: (ids.len() == 1).then(|| ids[0]),
            reservation_ids: multi.then_some(ids),
            amount: p.amount.value(),
            balance: p.balance_after.value(),
            paid_at: p.paid_at,
        }
    }
}

/// A payment as `GET /api/v1/payments/{id}` shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub payment_id: i64,
    /// In the order they were paid.
    pub reservation_ids: Vec<i64>,
    pub amount: i64,
    /// `PAID` or `REFUNDED`.
    #[schema(example = "PAID")]
    pub status: &'static str,
    pub paid_at: DateTime<Utc>,
    /// Null until refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

impl From<PaymentRecord> for PaymentView {
    fn from(p: PaymentRecord) -> Self {
        Self {
            payment_id: p.id.0,
            reservation_ids: p.reservation_ids().iter().map(|id| id.0).collect(),
            amount: p.amount.value(),
            status: p.status().as_str(),
            paid_at: p.paid_at,
            refunded_at: p.refunded_at,
        }
    }
}

/// The refunded payment and the balance right after the refund.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundResponse {
    #[serde(flatten)]
    pub payment: PaymentView,
    pub balance: i64,
}

impl From<Refund> for RefundResponse {
    fn from(r: Refund) -> Self {
        Self {
            payment: r.payment.into(),
            balance: r.balance_after.value(),
        }
    }
}
