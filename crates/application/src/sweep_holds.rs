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
