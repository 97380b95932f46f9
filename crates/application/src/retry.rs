use std::future::Future;
use std::time::Duration;

use domain::{DomainError, StoreError};
use rand::Rng;

/// Bounded retries of an optimistic update that lost a version race.
///
/// Backoff is exponential with full jitter so that racing writers spread out
/// instead of colliding again in lockstep.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 64,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it does not fail with
    /// [`StoreError::Conflict`], at most `max_attempts` times.
    pub async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, DomainError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DomainError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(DomainError::Store(StoreError::Conflict)) if tries < self.max_attempts => {
                    tokio::time::sleep(self.delay(tries)).await;
                }
                other => return other,
            }
        }
    }

    fn delay(&self, tries: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << tries.min(16))
            .min(self.max_delay);
        let micros = rand::thread_rng().gen_range(0..=ceiling.as_micros() as u64);
        Duration::from_micros(micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_micros(1),
            max_delay: Duration::from_micros(10),
        }
    }

    #[tokio::test]
    async fn retries_conflicts_until_success() {
        let calls = AtomicU32::new(0);
        let result = fast(5)
            .run(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(DomainError::Store(StoreError::Conflict))
                } else {
                    Ok(42)
                }
            })
            .await;
        assert_eq!(result, Ok(42));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn gives_up_after_the_bound() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = fast(3)
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(DomainError::Store(StoreError::Conflict))
            })
            .await;
        assert_eq!(result, Err(DomainError::Store(StoreError::Conflict)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = fast(3)
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(DomainError::ReservationExpired)
            })
            .await;
        assert_eq!(result, Err(DomainError::ReservationExpired));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
