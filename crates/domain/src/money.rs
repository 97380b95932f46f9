use thiserror::Error;

use crate::DomainError;

/// An amount of Korean won: a price, a balance, a sum paid. Never negative
/// (a signed change is a [`PointChange`]); integer only: money never touches
/// floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Won(i64);

/// A negative amount offered as [`Won`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("an amount of won cannot be negative: {0}")]
pub struct NegativeAmount(pub i64);

impl From<NegativeAmount> for crate::error::StoreError {
    fn from(err: NegativeAmount) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl From<NegativeAmount> for DomainError {
    fn from(err: NegativeAmount) -> Self {
        Self::Store(err.into())
    }
}

impl Won {
    /// No money.
    pub const ZERO: Won = Won(0);

    /// The largest price of a seat and the largest single charge.
    pub const MAX_PRICE: Won = Won(10_000_000);

    /// An amount, refused when negative.
    pub const fn new(amount: i64) -> Result<Won, NegativeAmount> {
        if amount >= 0 {
            Ok(Won(amount))
        } else {
            Err(NegativeAmount(amount))
        }
    }

    /// A price or charge amount: 1..=10,000,000 won.
    pub fn price(amount: i64) -> Result<Won, DomainError> {
        if (1..=Self::MAX_PRICE.0).contains(&amount) {
            Ok(Won(amount))
        } else {
            Err(DomainError::validation(format!(
                "amount must be an integer from 1 to {}",
                Self::MAX_PRICE.0
            )))
        }
    }

    /// The amount in won.
    pub const fn value(self) -> i64 {
        self.0
    }

    /// The sum, or `None` on overflow.
    pub fn checked_add(self, other: Won) -> Option<Won> {
        self.0.checked_add(other.0).map(Won)
    }

    /// The difference, or `None` when it would be negative.
    pub fn checked_sub(self, other: Won) -> Option<Won> {
        self.0
            .checked_sub(other.0)
            .and_then(|rest| Won::new(rest).ok())
    }
}

impl std::fmt::Display for Won {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A signed change of a balance: positive for charges and refunds, negative
/// for payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PointChange(i64);

impl PointChange {
    /// A change as stored (either sign).
    pub const fn new(delta: i64) -> PointChange {
        PointChange(delta)
    }

    /// An increase by `amount`.
    pub const fn credit(amount: Won) -> PointChange {
        PointChange(amount.0)
    }

    /// A decrease by `amount`.
    pub const fn debit(amount: Won) -> PointChange {
        // A Won is never negative, so its negation cannot overflow.
        PointChange(-amount.0)
    }

    /// The signed amount in won.
    pub const fn value(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_bounds() {
        assert!(Won::price(0).is_err());
        assert!(Won::price(-1).is_err());
        assert_eq!(Won::price(1), Ok(Won(1)));
        assert_eq!(Won::price(10_000_000), Ok(Won(10_000_000)));
        assert!(Won::price(10_000_001).is_err());
    }

    #[test]
    fn never_negative() {
        assert_eq!(Won::new(-1), Err(NegativeAmount(-1)));
        assert_eq!(Won::new(0), Ok(Won::ZERO));
        assert_eq!(Won(1).checked_sub(Won(2)), None);
    }

    #[test]
    fn checked_arithmetic_never_wraps() {
        assert_eq!(Won(i64::MAX).checked_add(Won(1)), None);
        assert_eq!(Won(0).checked_sub(Won(i64::MAX)), None);
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(PointChange::debit(Won(5)).value(), -5);
        assert_eq!(PointChange::credit(Won(5)).value(), 5);
    }
}
