use chrono::{DateTime, Utc};

use crate::points::BalanceChange;
use crate::reservation::Reservation;
use crate::{ConcertId, PaymentId, ReservationId, ScheduleId, SeatId, Won};

/// The whole decision of a payment, applied by the store in one transaction:
/// the balance debit, reservation HELD → CONFIRMED, seat → SOLD, the payment
/// row, the PAYMENT history entry and the payer's queue token → EXPIRED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDecision {
    /// The reservation paid.
    pub reservation_id: ReservationId,
    /// Its schedule.
    pub schedule_id: ScheduleId,
    /// Its seat, to mark SOLD.
    pub seat_id: SeatId,
    /// The seat version the decision was made on.
    pub seat_version: i64,
    /// Its concert, whose queue token of the payer expires.
    pub concert_id: ConcertId,
    /// The price paid.
    pub amount: Won,
    /// The balance debit and its history entry.
    pub debit: BalanceChange,
    /// When it was paid.
    pub paid_at: DateTime<Utc>,
}

impl PaymentDecision {
    /// The decision to pay `reservation` with `debit`.
    pub fn new(reservation: &Reservation, debit: BalanceChange) -> Self {
        Self {
            reservation_id: reservation.id,
            schedule_id: reservation.schedule_id,
            seat_id: reservation.seat_id,
            seat_version: reservation.seat_version,
            concert_id: reservation.concert_id,
            amount: reservation.price,
            debit,
            paid_at: debit.at,
        }
    }
}

/// A completed payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// The reservation paid.
    pub reservation_id: ReservationId,
    /// The price paid.
    pub amount: Won,
    /// The payer's balance right after.
    pub balance_after: Won,
    /// When it was paid.
    pub paid_at: DateTime<Utc>,
}
