use std::sync::Arc;

use domain::ports::{Clock, ReservationStore};
use domain::DomainError;

/// The background sweeper's tick: writes down holds that have lapsed.
/// Reads already treat them as free; this frees the rows for good.
pub struct SweepHolds {
    pub reservations: Arc<dyn ReservationStore>,
    pub clock: Arc<dyn Clock>,
    pub batch: u64,
}

impl SweepHolds {
    pub async fn tick(&self) -> Result<u64, DomainError> {
        self.reservations
            .expire_lapsed(self.clock.now(), self.batch)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockReservationStore};

    #[tokio::test]
    async fn sweeps_one_batch_at_the_clock_time() {
        let now = chrono::Utc::now();
        let mut reservations = MockReservationStore::new();
        reservations
            .expect_expire_lapsed()
            .withf(move |at, limit| *at == now && *limit == 500)
            .returning(|_, _| Ok(3));
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        let uc = SweepHolds {
            reservations: Arc::new(reservations),
            clock: Arc::new(clock),
            batch: 500,
        };
        assert_eq!(uc.tick().await, Ok(3));
    }
}
