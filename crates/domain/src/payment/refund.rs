//! Giving a payment back: once, and not too close to the show.

use chrono::{DateTime, Duration, Utc};

use crate::payment::{PaidItem, PaymentRecord};
use crate::points::{Balance, BalanceChange, PointEntryKind};
use crate::{DomainError, PaymentId, PointChange, Won};

/// Refunds close `cutoff` before the earliest schedule of the payment starts.
#[derive(Debug, Clone, Copy)]
pub struct RefundPolicy {
    /// How long before the show refunds close.
    pub cutoff: Duration,
}

/// The whole decision of a refund, applied by the store in one transaction:
/// the credit and its REFUND entry, the payment marked refunded, every
/// reservation CONFIRMED → REFUNDED and every seat freed (to the waiting list first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundDecision {
    /// The payment given back.
    pub payment_id: PaymentId,
    /// The seat versions are those of the holds; the sale bumped each by one.
    pub items: Vec<PaidItem>,
    /// The balance credit and its REFUND history entry.
    pub credit: BalanceChange,
    /// When it is refunded.
    pub refunded_at: DateTime<Utc>,
}

/// A refund as the payer is told: the payment, now refunded, and the balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The payment, now refunded.
    pub payment: PaymentRecord,
    /// The payer's balance right after.
    pub balance_after: Won,
}

impl RefundPolicy {
    /// Refuses a refunded payment (ALREADY_REFUNDED) or one whose earliest
    /// schedule starts within the cutoff (REFUND_CLOSED); else credits the
    /// amount with no cap (the cap is for charges).
    pub fn decide(
        &self,
        payment: &PaymentRecord,
        earliest_start: DateTime<Utc>,
        balance: &Balance,
        now: DateTime<Utc>,
    ) -> Result<RefundDecision, DomainError> {
        if payment.refunded_at.is_some() {
            return Err(DomainError::AlreadyRefunded);
        }
        if earliest_start <= now + self.cutoff {
            return Err(DomainError::RefundClosed);
        }
        Ok(RefundDecision {
            payment_id: payment.id,
            items: payment.reservations.iter().map(PaidItem::from).collect(),
            credit: BalanceChange {
                user_id: payment.user_id,
                expected_version: balance.version,
                kind: PointEntryKind::Refund,
                delta: PointChange::credit(payment.amount),
                new_amount: balance.after_refund(payment.amount)?,
                at: now,
            },
            refunded_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::tests::held;
    use crate::points::MAX_BALANCE;
    use crate::test_support::now;
    use crate::UserId;

    fn payment(refunded: bool) -> PaymentRecord {
        PaymentRecord {
            id: PaymentId(4),
            user_id: UserId(1),
            reservations: vec![held(1, 30), held(2, 20)],
            amount: Won::new(50).unwrap(),
            paid_at: now(),
            refunded_at: refunded.then(now),
        }
    }

    fn balance(amount: Won) -> Balance {
        Balance {
            user_id: UserId(1),
            amount,
            version: 2,
        }
    }

    const POLICY: RefundPolicy = RefundPolicy {
        cutoff: Duration::seconds(86_400),
    };

    #[test]
    fn credits_past_the_charge_cap() {
        let d = POLICY
            .decide(
                &payment(false),
                now() + Duration::seconds(86_401),
                &balance(MAX_BALANCE),
                now(),
            )
            .unwrap();
        assert_eq!(
            d.credit.new_amount,
            Won::new(MAX_BALANCE.value() + 50).unwrap()
        );
        assert_eq!(d.credit.delta, PointChange::new(50));
        assert_eq!(d.credit.kind, PointEntryKind::Refund);
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn once_and_before_the_cutoff() {
        let later = now() + Duration::days(2);
        assert_eq!(
            POLICY.decide(&payment(true), later, &balance(Won::new(0).unwrap()), now()),
            Err(DomainError::AlreadyRefunded)
        );
        assert_eq!(
            POLICY.decide(
                &payment(false),
                now() + Duration::seconds(86_400),
                &balance(Won::new(0).unwrap()),
                now()
            ),
            Err(DomainError::RefundClosed)
        );
    }
}
