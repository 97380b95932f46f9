use chrono::{DateTime, Utc};

use crate::{DomainError, UserId, Won};

/// The most a balance may hold.
pub const MAX_BALANCE: Won = Won(1_000_000_000);

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
            _ => Err(DomainError::BalanceLimitExceeded {
                limit: MAX_BALANCE.0,
            }),
        }
    }

    /// The balance after a refund of `amount`: never capped, so a refund is
    /// never refused for [`MAX_BALANCE`] (that cap is for charges).
    pub fn after_refund(&self, amount: Won) -> Result<Won, DomainError> {
        self.amount
            .checked_add(amount)
            .ok_or_else(|| DomainError::Internal("balance overflow".into()))
    }

    /// The balance after paying `price`; never below zero.
    pub fn after_debit(&self, price: Won) -> Result<Won, DomainError> {
        match self.amount.checked_sub(price) {
            Some(rest) if rest.0 >= 0 => Ok(rest),
            _ => Err(DomainError::InsufficientBalance {
                needed: price.0,
                available: self.amount.0,
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
    pub delta: Won,
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

/// One line of the point history; the balance is always the sum of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointEntry {
    /// Why the balance changed.
    pub kind: PointEntryKind,
    /// Signed: payments are negative.
    pub amount: Won,
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
            amount: Won(amount),
            version: 0,
        }
    }

    #[test]
    fn charge_up_to_the_limit() {
        assert_eq!(balance(999_999_999).after_charge(Won(1)), Ok(MAX_BALANCE));
        assert_eq!(
            balance(999_999_999).after_charge(Won(2)),
            Err(DomainError::BalanceLimitExceeded {
                limit: 1_000_000_000
            })
        );
        assert!(balance(i64::MAX).after_charge(Won(1)).is_err());
    }

    #[test]
    fn debit_never_below_zero() {
        assert_eq!(balance(100).after_debit(Won(100)), Ok(Won(0)));
        assert_eq!(
            balance(99).after_debit(Won(100)),
            Err(DomainError::InsufficientBalance {
                needed: 100,
                available: 99
            })
        );
        assert!(balance(i64::MIN).after_debit(Won(1)).is_err());
    }
}
