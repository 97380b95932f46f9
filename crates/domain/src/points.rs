use chrono::{DateTime, Utc};

use crate::{DomainError, PointChange, UserId, Won};

/// The most a balance may hold.
pub const MAX_BALANCE: Won = match Won::new(1_000_000_000) {
    Ok(cap) => cap,
    Err(_) => panic!("the cap is positive"),
};

/// A user's prepaid points, with the optimistic-lock version of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Whose balance.
    pub user_id: UserId,
    /// The points held.
    pub amount: Won,
    /// The row's optimistic-lock version.
    pub version: i64,
}

impl Balance {
    /// The balance after charging `amount`, within [`MAX_BALANCE`].
    pub fn after_charge(&self, amount: Won) -> Result<Won, DomainError> {
        match self.amount.checked_add(amount) {
            Some(total) if total <= MAX_BALANCE => Ok(total),
            _ => Err(DomainError::BalanceLimitExceeded { limit: MAX_BALANCE }),
        }
    }

    /// The balance after a refund of `amount`: never capped, so a refund is
    /// never refused for [`MAX_BALANCE`] (that cap is for charges).
    pub fn after_refund(&self, amount: Won) -> Result<Won, DomainError> {
        self.amount
            .checked_add(amount)
            .ok_or(DomainError::AmountOverflow("balance"))
    }

    /// The balance after paying `price`; never below zero.
    pub fn after_debit(&self, price: Won) -> Result<Won, DomainError> {
        match self.amount.checked_sub(price) {
            Some(rest) => Ok(rest),
            None => Err(DomainError::InsufficientBalance {
                needed: price,
                available: self.amount,
            }),
        }
    }
}

/// A balance change to apply if the row still has `expected_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceChange {
    /// Whose balance.
    pub user_id: UserId,
    /// The version the change was decided on.
    pub expected_version: i64,
    /// Why it changes.
    pub kind: PointEntryKind,
    /// Signed: positive for charges and refunds, negative for payments.
    pub delta: PointChange,
    /// The balance after the change.
    pub new_amount: Won,
    /// When it happens.
    pub at: DateTime<Utc>,
}

/// Why a balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointEntryKind {
    /// Points bought.
    Charge,
    /// Points spent on a payment.
    Payment,
    /// Points returned by a refund.
    Refund,
}

impl PointEntryKind {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Charge => "CHARGE",
            Self::Payment => "PAYMENT",
            Self::Refund => "REFUND",
        }
    }
}

crate::error::parse_by_name!(
    PointEntryKind,
    "point entry kind",
    [Charge, Payment, Refund]
);

/// One line of the point history; the balance is always the sum of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointEntry {
    /// Why the balance changed.
    pub kind: PointEntryKind,
    /// Signed: payments are negative.
    pub amount: PointChange,
    /// The balance right after this entry.
    pub balance_after: Won,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balance(amount: i64) -> Balance {
        Balance {
            user_id: UserId(1),
            amount: Won::new(amount).unwrap(),
            version: 0,
        }
    }

    #[test]
    fn charge_up_to_the_limit() {
        assert_eq!(
            balance(999_999_999).after_charge(Won::new(1).unwrap()),
            Ok(MAX_BALANCE)
        );
        assert_eq!(
            balance(999_999_999).after_charge(Won::new(2).unwrap()),
            Err(DomainError::BalanceLimitExceeded { limit: MAX_BALANCE })
        );
        assert!(balance(i64::MAX)
            .after_charge(Won::new(1).unwrap())
            .is_err());
    }

    #[test]
    fn debit_never_below_zero() {
        assert_eq!(
            balance(100).after_debit(Won::new(100).unwrap()),
            Ok(Won::new(0).unwrap())
        );
        assert_eq!(
            balance(99).after_debit(Won::new(100).unwrap()),
            Err(DomainError::InsufficientBalance {
                needed: Won::new(100).unwrap(),
                available: Won::new(99).unwrap(),
            })
        );
    }
}
