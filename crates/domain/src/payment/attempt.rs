//! A payment judged in the store's own snapshot: what is asked, what the
//! store saw when it did not pay, and the refusal named from that.
//!
//! The store reads the reservations, the balance and (when the queue shares
//! its database) the payer's token in the very snapshot it writes in, and
//! pays only when [`PaymentSnapshot::decide`] would accept what it saw. When
//! it does not pay it answers with what it saw, and the domain names the
//! refusal from it: the rules live here once, however the store applies them.

use chrono::{DateTime, Utc};

use super::{decide, order_of, Payment, PaymentDecision};
use crate::points::Balance;
use crate::queue::{admitted, Admission, QueueStatus};
use crate::reservation::Reservation;
use crate::{DomainError, ReservationId, StoreError, UserId};

/// One payment attempt as the payer asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentRequest<'a> {
    /// Who pays.
    pub user_id: UserId,
    /// Distinct ids in request order (checked by [`super::PaymentPolicy::check_ids`]).
    pub reservation_ids: &'a [ReservationId],
    /// When it is paid: the instant holds and the token are judged at.
    pub paid_at: DateTime<Utc>,
    /// How the payer's queue admission is judged for ordinary holds
    /// (waiting-list offers need none): with [`Admission::InWrite`] the store
    /// also ends that token in the payment's own write.
    pub admission: Admission<'a>,
}

/// What the store saw when it did not pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSnapshot {
    /// The payer's own reservations among those asked for, in any order
    /// (an id missing here is NOT_FOUND: absent or someone else's).
    pub reservations: Vec<Reservation>,
    /// The payer's balance (zero at version 0 when there is no row yet).
    pub balance: Balance,
    /// With [`Admission::InWrite`]: the shown token's status for this payer
    /// and the order's concert at `paid_at` (an ACTIVE token whose window has
    /// ended is EXPIRED), `None` when there is no such token.
    pub token: Option<QueueStatus>,
}

/// What the store did with a [`PaymentRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentAttempt {
    /// Paid, all of it, in one atomic write.
    Paid(Payment),
    /// Nothing written; what the store saw.
    Refused(PaymentSnapshot),
}

impl PaymentSnapshot {
    /// The decision on what was seen, or why not, in the contract's order:
    /// NOT_FOUND, an order spanning concerts or mixing offers (400), the
    /// queue token (holds only, when judged in the write), then
    /// RESERVATION_EXPIRED, RESERVATION_NOT_PAYABLE, INSUFFICIENT_BALANCE.
    pub fn decide(&self, request: &PaymentRequest<'_>) -> Result<PaymentDecision, DomainError> {
        let order = request
            .reservation_ids
            .iter()
            .map(|&id| {
                self.reservations
                    .iter()
                    .find(|r| r.id == id && r.user_id == request.user_id)
                    .cloned()
                    .ok_or_else(|| DomainError::not_found(format!("reservation {id}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (_, offer) = order_of(&order)?;
        if !offer && matches!(request.admission, Admission::InWrite(_)) {
            admitted(self.token)?;
        }
        decide(&order, &self.balance, request.paid_at)
    }

    /// Why a store that saw this did not pay. When everything seen is
    /// payable, something changed between its snapshot and its write (a
    /// balance or seat version moved): a conflict, which the use case's
    /// retry runs again on a fresh snapshot.
    pub fn refusal(&self, request: &PaymentRequest<'_>) -> DomainError {
        match self.decide(request) {
            Err(refused) => refused,
            Ok(_) => StoreError::Conflict.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::tests::held;
    use crate::reservation::ReservationStatus;
    use crate::test_support::now;
    use crate::{ConcertId, Won};

    const IDS: [ReservationId; 2] = [ReservationId(1), ReservationId(2)];

    fn seen(
        reservations: Vec<Reservation>,
        balance: i64,
        token: Option<QueueStatus>,
    ) -> PaymentSnapshot {
        PaymentSnapshot {
            reservations,
            balance: Balance {
                user_id: UserId(1),
                amount: Won::new(balance).unwrap(),
                version: 4,
            },
            token,
        }
    }

    fn request(admission: Admission<'static>) -> PaymentRequest<'static> {
        PaymentRequest {
            user_id: UserId(1),
            reservation_ids: &IDS,
            paid_at: now(),
            admission,
        }
    }

    #[test]
    fn a_payable_snapshot_decides_the_debit_in_request_order() {
        let snapshot = seen(
            vec![held(2, 20_000), held(1, 10_000)],
            50_000,
            Some(QueueStatus::Active),
        );
        let d = snapshot.decide(&request(Admission::InWrite("t"))).unwrap();
        assert_eq!(d.amount, Won::new(30_000).unwrap());
        assert_eq!(d.debit.expected_version, 4);
        assert_eq!(d.items[0].reservation_id, ReservationId(1));
        // The store did not pay what it saw payable: a version moved.
        assert_eq!(
            snapshot.refusal(&request(Admission::InWrite("t"))),
            DomainError::Store(StoreError::Conflict)
        );
    }

    #[test]
    fn refusals_are_named_in_the_contracts_order() {
        let in_write = Admission::InWrite("t");
        let mut others = held(2, 1);
        others.user_id = UserId(9);
        let mut other_concert = held(2, 1);
        other_concert.concert_id = ConcertId(9);
        let mut expired = held(2, 1);
        expired.expires_at = now();
        let mut paid = held(2, 1);
        paid.status = ReservationStatus::Confirmed;
        let active = Some(QueueStatus::Active);
        let cases = [
            (
                seen(vec![held(1, 1), others], 10, active),
                in_write,
                "NOT_FOUND",
            ),
            (
                seen(vec![held(1, 1), other_concert], 10, None),
                in_write,
                "VALIDATION",
            ),
            (
                seen(vec![held(1, 1), held(2, 1)], 10, Some(QueueStatus::Waiting)),
                in_write,
                "NOT_ACTIVE",
            ),
            (
                seen(vec![held(1, 1), held(2, 1)], 10, None),
                in_write,
                "INVALID",
            ),
            (
                seen(
                    vec![held(1, 1), expired.clone()],
                    10,
                    Some(QueueStatus::Expired),
                ),
                in_write,
                "INVALID",
            ),
            (
                seen(vec![held(1, 1), expired], 10, active),
                in_write,
                "EXPIRED",
            ),
            (
                seen(vec![held(1, 1), paid], 10, active),
                in_write,
                "NOT_PAYABLE",
            ),
            (
                seen(vec![held(1, 6), held(2, 5)], 10, active),
                in_write,
                "INSUFFICIENT",
            ),
        ];
        for (snapshot, admission, what) in cases {
            let err = snapshot.refusal(&request(admission));
            let ok = match what {
                "NOT_FOUND" => matches!(err, DomainError::NotFound(_)),
                "VALIDATION" => matches!(err, DomainError::Validation(_)),
                "NOT_ACTIVE" => err == DomainError::QueueTokenNotActive,
                "INVALID" => err == DomainError::QueueTokenInvalid,
                "EXPIRED" => err == DomainError::ReservationExpired,
                "NOT_PAYABLE" => {
                    err == DomainError::ReservationNotPayable(ReservationStatus::Confirmed)
                }
                _ => {
                    err == DomainError::InsufficientBalance {
                        needed: Won::new(11).unwrap(),
                        available: Won::new(10).unwrap(),
                    }
                }
            };
            assert!(ok, "{what}: {err:?}");
        }
    }

    #[test]
    fn the_token_is_judged_only_for_holds_judged_in_the_write() {
        // Checked through the queue port already: what the store saw of a token is not asked.
        let checked = seen(vec![held(1, 1), held(2, 1)], 10, None);
        assert!(checked.decide(&request(Admission::Checked)).is_ok());
        // Waiting-list offers are their own admission.
        let (mut a, mut b) = (held(1, 1), held(2, 1));
        a.offer = true;
        b.offer = true;
        let offers = seen(vec![a, b], 10, Some(QueueStatus::Waiting));
        assert!(
            offers
                .decide(&request(Admission::InWrite("t")))
                .unwrap()
                .offer
        );
    }
}
