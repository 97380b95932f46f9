use std::sync::Arc;

use application::{
    AdminKey, Authenticate, CancelReservation, ChargePoints, ControlQueue, CreateConcert, HoldSeat,
    JoinQueue, JoinWaitlist, ListConcerts, ListSchedules, LogIn, PayReservation, RefundPayment,
    RegisterUser, ViewPayment, ViewPoints, ViewQueueToken, ViewReservations, ViewSales,
    ViewSeatMap, WaitlistEntries,
};
use async_trait::async_trait;

use crate::{HttpLimits, Idempotency, InFlight, Metrics, RateLimits, SeatMapBodies};

/// Whether the stores this instance needs answer right now.
#[async_trait]
pub trait Readiness: Send + Sync {
    async fn ready(&self) -> bool;
}

/// Everything a handler may call: one use case per user intent.
pub struct AppState {
    pub register_user: RegisterUser,
    pub log_in: LogIn,
    pub authenticate: Authenticate,
    pub create_concert: CreateConcert,
    pub list_concerts: ListConcerts,
    pub list_schedules: ListSchedules,
    pub join_queue: JoinQueue,
    pub view_queue_token: ViewQueueToken,
    pub view_seat_map: ViewSeatMap,
    /// Seat-map answers rendered once per change of the map.
    pub seat_map_bodies: SeatMapBodies,
    pub hold_seat: HoldSeat,
    pub view_reservations: ViewReservations,
    pub cancel_reservation: CancelReservation,
    pub view_points: ViewPoints,
    pub charge_points: ChargePoints,
    pub pay_reservation: PayReservation,
    pub view_payment: ViewPayment,
    pub refund_payment: RefundPayment,
    pub join_waitlist: JoinWaitlist,
    pub waitlist_entries: WaitlistEntries,
    pub idempotency: Idempotency,
    pub control_queue: ControlQueue,
    pub view_sales: ViewSales,
    /// The configured admin key, checked by the [`crate::extract::AdminCaller`] extractor.
    pub admin: AdminKey,
    pub readiness: Arc<dyn Readiness>,
    pub metrics: Metrics,
    pub timeouts: HttpLimits,
    /// The bound on requests this instance works on at once.
    pub in_flight: InFlight,
    pub limits: RateLimits,
}
