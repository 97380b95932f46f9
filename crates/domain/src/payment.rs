use chrono::{DateTime, Utc};

use crate::points::BalanceChange;
use crate::reservation::Reservation;
use crate::{ConcertId, PaymentId, ReservationId, ScheduleId, SeatId, Won};

/// The whole decision of a payment, applied by the store in one transaction:
/// the balance debit, reservation HELD → CONFIRMED, seat → SOLD, the payment
/// row, the PAYMENT history entry and the payer's queue token → EXPIRED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDecision {
    pub reservation_id: ReservationId,
    pub schedule_id: ScheduleId,
    pub seat_id: SeatId,
    pub seat_version: i64,
    pub concert_id: ConcertId,
    pub amount: Won,
    pub debit: BalanceChange,
    pub paid_at: DateTime<Utc>,
}

impl PaymentDecision {
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
    pub id: PaymentId,
    pub reservation_id: ReservationId,
    pub amount: Won,
    pub balance_after: Won,
    pub paid_at: DateTime<Utc>,
}
