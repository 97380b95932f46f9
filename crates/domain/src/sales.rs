//! The organiser's view of a sale.

use crate::{DomainError, ScheduleId, Won};

/// One schedule's seats and takings, counted in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSales {
    /// The schedule counted.
    pub schedule_id: ScheduleId,
    /// Every seat of the schedule.
    pub total_seats: u32,
    /// Seats under a live (unexpired) hold.
    pub held: u32,
    /// Seats paid for.
    pub sold: u32,
    /// Sum of the prices of the schedule's paid, unrefunded reservations.
    pub revenue: Won,
}

impl ScheduleSales {
    /// Seats neither held nor sold, so that `available + held + sold = total`.
    pub fn available(&self) -> u32 {
        self.total_seats
            .saturating_sub(self.held.saturating_add(self.sold))
    }
}

/// The concert's takings: the sum over its schedules, checked.
pub fn total_revenue(schedules: &[ScheduleSales]) -> Result<Won, DomainError> {
    schedules
        .iter()
        .try_fold(Won::ZERO, |sum, s| sum.checked_add(s.revenue))
        .ok_or(DomainError::AmountOverflow("revenue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sales(held: u32, sold: u32, revenue: i64) -> ScheduleSales {
        ScheduleSales {
            schedule_id: ScheduleId(1),
            total_seats: 10,
            held,
            sold,
            revenue: Won::new(revenue).unwrap(),
        }
    }

    #[test]
    fn seats_add_up_and_revenue_sums() {
        let s = sales(3, 2, 2000);
        assert_eq!(s.available() + s.held + s.sold, s.total_seats);
        assert_eq!(
            total_revenue(&[s, sales(0, 1, 500)]),
            Ok(Won::new(2500).unwrap())
        );
        assert_eq!(total_revenue(&[]), Ok(Won::new(0).unwrap()));
        assert!(total_revenue(&[sales(0, 0, i64::MAX), sales(0, 0, 1)]).is_err());
    }
}
