use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::points::{Balance, BalanceChange, PointEntryKind};
use crate::reservation::{Reservation, ReservationStatus};
use crate::{
    ConcertId, DomainError, PaymentId, PointChange, ReservationId, ScheduleId, SeatId, UserId, Won,
};

mod attempt;
pub mod refund;

pub use attempt::{PaymentAttempt, PaymentRequest, PaymentSnapshot};

/// One reservation a payment covers, with the seat version its hold produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidItem {
    /// The reservation paid.
    pub reservation_id: ReservationId,
    /// Its schedule.
    pub schedule_id: ScheduleId,
    /// Its seat, to mark SOLD.
    pub seat_id: SeatId,
    /// The seat version the decision was made on.
    pub seat_version: i64,
}

impl From<&Reservation> for PaidItem {
    fn from(r: &Reservation) -> Self {
        Self {
            reservation_id: r.id,
            schedule_id: r.schedule_id,
            seat_id: r.seat_id,
            seat_version: r.seat_version,
        }
    }
}

/// The whole decision of a payment, applied by the store in one transaction:
/// the balance debit of the sum, every reservation HELD → CONFIRMED, every
/// seat → SOLD, one payment row and one PAYMENT history entry, and the
/// payer's queue token → EXPIRED (unless the holds are waiting-list offers,
/// whose entries become FULFILLED instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDecision {
    /// In request order.
    pub items: Vec<PaidItem>,
    /// The concert all the reservations belong to.
    pub concert_id: ConcertId,
    /// The sum of the prices.
    pub amount: Won,
    /// The balance debit and its PAYMENT history entry.
    pub debit: BalanceChange,
    /// When it is paid.
    pub paid_at: DateTime<Utc>,
    /// The reservations are waiting-list offers: no queue token is expired.
    pub offer: bool,
}

/// What one payment request pays: 1..=`max_items` distinct reservations.
#[derive(Debug, Clone, Copy)]
pub struct PaymentPolicy {
    /// At most this many reservations in one payment.
    pub max_items: u32,
}

impl PaymentPolicy {
    /// Refuses an empty, oversized or repeating id list (400), before any lookup.
    pub fn check_ids(&self, ids: &[ReservationId]) -> Result<(), DomainError> {
        if ids.is_empty() || ids.len() > self.max_items as usize {
            return Err(DomainError::validation(format!(
                "reservationIds must hold 1 to {} ids",
                self.max_items
            )));
        }
        let mut seen = HashSet::new();
        if !ids.iter().all(|id| seen.insert(*id)) {
            return Err(DomainError::validation("reservationIds must be distinct"));
        }
        Ok(())
    }

    /// The concert of the order and whether it pays waiting-list offers;
    /// 400 when the reservations span concerts or mix offers with holds.
    pub fn order_of(&self, reservations: &[Reservation]) -> Result<(ConcertId, bool), DomainError> {
        order_of(reservations)
    }

    /// The payment of `reservations` (the caller's, in request order) from
    /// `balance` at `now`: an expired one is RESERVATION_EXPIRED before a paid
    /// or cancelled one is RESERVATION_NOT_PAYABLE, then the sum must fit.
    pub fn decide(
        &self,
        reservations: &[Reservation],
        balance: &Balance,
        now: DateTime<Utc>,
    ) -> Result<PaymentDecision, DomainError> {
        decide(reservations, balance, now)
    }
}

// The rules are free functions, as a store judging its own snapshot
// ([`PaymentSnapshot::decide`]) applies them without the request limits.

fn order_of(reservations: &[Reservation]) -> Result<(ConcertId, bool), DomainError> {
    let first = reservations
        .first()
        .ok_or_else(|| DomainError::validation("reservationIds must not be empty"))?;
    if reservations
        .iter()
        .any(|r| r.concert_id != first.concert_id)
    {
        return Err(DomainError::validation(
            "reservationIds must all be of one concert",
        ));
    }
    if reservations.iter().any(|r| r.offer != first.offer) {
        return Err(DomainError::validation(
            "waiting-list offers are paid apart from ordinary holds",
        ));
    }
    Ok((first.concert_id, first.offer))
}

fn decide(
    reservations: &[Reservation],
    balance: &Balance,
    now: DateTime<Utc>,
) -> Result<PaymentDecision, DomainError> {
    let (concert_id, offer) = order_of(reservations)?;
    if reservations
        .iter()
        .any(|r| r.status_at(now) == ReservationStatus::Expired)
    {
        return Err(DomainError::ReservationExpired);
    }
    for r in reservations {
        r.ensure_payable(now)?;
    }
    let amount = reservations
        .iter()
        .try_fold(Won::ZERO, |sum, r| sum.checked_add(r.price))
        .ok_or_else(|| DomainError::validation("the order's total is out of range"))?;
    let debit = BalanceChange {
        user_id: balance.user_id,
        expected_version: balance.version,
        kind: PointEntryKind::Payment,
        delta: PointChange::debit(amount),
        new_amount: balance.after_debit(amount)?,
        at: now,
    };
    Ok(PaymentDecision {
        items: reservations.iter().map(PaidItem::from).collect(),
        concert_id,
        amount,
        debit,
        paid_at: now,
        offer,
    })
}

/// A completed payment, as its payer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// In request order.
    pub reservation_ids: Vec<ReservationId>,
    /// The sum paid.
    pub amount: Won,
    /// The payer's balance right after.
    pub balance_after: Won,
    /// When it was paid.
    pub paid_at: DateTime<Utc>,
}

/// A stored payment and the reservations it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Its id.
    pub id: PaymentId,
    /// Who paid.
    pub user_id: UserId,
    /// In the order they were paid.
    pub reservations: Vec<Reservation>,
    /// The sum paid.
    pub amount: Won,
    /// When it was paid.
    pub paid_at: DateTime<Utc>,
    /// When it was refunded, if it was.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// PAID, or REFUNDED once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Paid and standing.
    Paid,
    /// Given back to the balance.
    Refunded,
}

impl PaymentStatus {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "PAID",
            Self::Refunded => "REFUNDED",
        }
    }
}

impl PaymentRecord {
    /// REFUNDED when a refund time is recorded.
    pub fn status(&self) -> PaymentStatus {
        if self.refunded_at.is_some() {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::Paid
        }
    }

    /// Its reservation ids, in the order they were paid.
    pub fn reservation_ids(&self) -> Vec<ReservationId> {
        self.reservations.iter().map(|r| r.id).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_support::now;
    use chrono::Duration;

    pub(crate) fn held(id: i64, price: i64) -> Reservation {
        Reservation {
            id: ReservationId(id),
            user_id: UserId(1),
            concert_id: ConcertId(2),
            schedule_id: ScheduleId(3),
            seat_id: SeatId(10 + id),
            seat_number: id as u32,
            seat_version: 1,
            price: Won::new(price).unwrap(),
            status: ReservationStatus::Held,
            expires_at: now() + Duration::seconds(60),
            created_at: now(),
            offer: false,
        }
    }

    fn balance(amount: i64) -> Balance {
        Balance {
            user_id: UserId(1),
            amount: Won::new(amount).unwrap(),
            version: 7,
        }
    }

    const POLICY: PaymentPolicy = PaymentPolicy { max_items: 3 };

    #[test]
    fn id_lists_are_checked_before_any_lookup() {
        let ids = |v: &[i64]| v.iter().map(|&i| ReservationId(i)).collect::<Vec<_>>();
        assert!(POLICY.check_ids(&ids(&[1, 2, 3])).is_ok());
        for bad in [&[][..], &[1, 2, 3, 4], &[1, 2, 1]] {
            assert!(matches!(
                POLICY.check_ids(&ids(bad)),
                Err(DomainError::Validation(_))
            ));
        }
    }

    #[test]
    fn one_debit_of_the_sum_in_request_order() {
        let d = POLICY
            .decide(&[held(2, 30_000), held(1, 20_000)], &balance(60_000), now())
            .unwrap();
        assert_eq!(d.amount, Won::new(50_000).unwrap());
        assert_eq!(d.debit.delta, PointChange::new(-50_000));
        assert_eq!(d.debit.new_amount, Won::new(10_000).unwrap());
        assert_eq!(d.debit.expected_version, 7);
        assert_eq!(
            d.items
                .iter()
                .map(|i| i.reservation_id.0)
                .collect::<Vec<_>>(),
            [2, 1]
        );
        assert!(!d.offer);
    }

    #[test]
    fn refusals_in_the_contracts_order() {
        let mut other_concert = held(2, 1);
        other_concert.concert_id = ConcertId(9);
        let mut offer = held(2, 1);
        offer.offer = true;
        let mut expired = held(2, 1);
        expired.expires_at = now();
        let mut paid = held(3, 1);
        paid.status = ReservationStatus::Confirmed;
        let cases = [
            (vec![held(1, 1), other_concert], "VALIDATION"),
            (vec![held(1, 1), offer], "VALIDATION"),
            (vec![paid.clone(), expired], "EXPIRED"),
            (vec![held(1, 1), paid], "NOT_PAYABLE"),
            (vec![held(1, 60_000), held(2, 1)], "INSUFFICIENT"),
        ];
        for (order, what) in cases {
            let err = POLICY.decide(&order, &balance(60_000), now()).unwrap_err();
            let ok = match what {
                "VALIDATION" => matches!(err, DomainError::Validation(_)),
                "EXPIRED" => err == DomainError::ReservationExpired,
                "NOT_PAYABLE" => matches!(err, DomainError::ReservationNotPayable(_)),
                _ => {
                    err == DomainError::InsufficientBalance {
                        needed: Won::new(60_001).unwrap(),
                        available: Won::new(60_000).unwrap(),
                    }
                }
            };
            assert!(ok, "{what}: {err:?}");
        }
    }

    #[test]
    fn offers_pay_together() {
        let (mut a, mut b) = (held(1, 5), held(2, 5));
        a.offer = true;
        b.offer = true;
        assert!(POLICY.decide(&[a, b], &balance(10), now()).unwrap().offer);
    }
}
