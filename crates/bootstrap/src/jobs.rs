//! Background jobs. Every instance runs them; the stores make concurrent
//! runs safe, so there is no leader to elect and none to lose.

use std::future::Future;
use std::time::Duration;

use domain::DomainError;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// A named periodic job.
pub struct Job {
    name: &'static str,
    every: Duration,
}

impl Job {
    pub fn new(name: &'static str, every_ms: u64) -> Self {
        Self {
            name,
            every: Duration::from_millis(every_ms),
        }
    }
}

/// Runs `tick` every period until `stop` turns true; a failed tick is logged
/// and the next one tries again.
pub fn spawn_job<F, Fut>(job: Job, mut stop: watch::Receiver<bool>, tick: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, DomainError>> + Send,
{
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(job.every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => match tick().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(job = job.name, n, "tick"),
                    Err(error) => tracing::warn!(job = job.name, error = ?error, "tick failed"),
                },
                _ = stop.changed() => break,
            }
        }
    })
}
