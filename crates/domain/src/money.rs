use crate::DomainError;

/// An amount of Korean won. Integer only: money never touches floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Won(pub i64);

impl Won {
    /// The largest price of a seat and the largest single charge.
    pub const MAX_PRICE: Won = Won(10_000_000);

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
    pub fn value(self) -> i64 {
        self.0
    }

    /// The sum, or `None` on overflow.
    pub fn checked_add(self, other: Won) -> Option<Won> {
        self.0.checked_add(other.0).map(Won)
    }

    /// The difference, or `None` on overflow.
    pub fn checked_sub(self, other: Won) -> Option<Won> {
        self.0.checked_sub(other.0).map(Won)
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
    fn checked_arithmetic_never_wraps() {
        assert_eq!(Won(i64::MAX).checked_add(Won(1)), None);
        assert_eq!(Won(i64::MIN).checked_sub(Won(1)), None);
    }
}
