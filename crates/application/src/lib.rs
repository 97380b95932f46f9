//! One use case per user intent, built only on the domain's ports.
//! Use cases decide; the adapters behind the ports persist.

mod admit_queues;
mod authenticate;
mod cancel_reservation;
mod charge_points;
mod create_concert;
mod hold_seat;
mod idempotency;
mod join_queue;
mod list_concerts;
mod list_schedules;
mod log_in;
mod pay_reservation;
mod queue_guard;
mod refund_payment;
mod register_user;
mod retry;
mod sweep_holds;
mod view_payment;
mod view_points;
mod view_queue_token;
mod view_reservations;
mod view_seat_map;

pub use admit_queues::{AdmissionReport, AdmitQueues};
pub use authenticate::Authenticate;
pub use cancel_reservation::CancelReservation;
pub use charge_points::ChargePoints;
pub use create_concert::CreateConcert;
pub use hold_seat::HoldSeat;
pub use idempotency::Idempotency;
pub use join_queue::{JoinQueue, QueueView};
pub use list_concerts::ListConcerts;
pub use list_schedules::ListSchedules;
pub use log_in::{LogIn, LoggedIn};
pub use pay_reservation::PayReservation;
pub use queue_guard::QueueGuard;
pub use refund_payment::RefundPayment;
pub use register_user::RegisterUser;
pub use retry::RetryPolicy;
pub use sweep_holds::SweepHolds;
pub use view_payment::ViewPayment;
pub use view_points::ViewPoints;
pub use view_queue_token::ViewQueueToken;
pub use view_reservations::ViewReservations;
pub use view_seat_map::{SeatMap, ViewSeatMap};
