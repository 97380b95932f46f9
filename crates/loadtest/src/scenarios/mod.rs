//! One file per scenario, and the closed-loop generator they share.

pub mod contend;
mod flash_check;
pub mod flash_sale;
pub mod health;
pub mod hold;
pub mod purchase;
pub mod queue_poll;
pub mod seat_map;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::setup::progress;

/// Runs `concurrency` workers for `duration`; each calls `step(worker, n)`
/// back to back (a closed loop: a new request leaves when the previous answer
/// is in). Returns the wall time from start to the last answer.
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, step: F) -> Duration
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let step = Arc::new(step);
    let done = Arc::new(AtomicU64::new(0));
    let bar = progress(duration.as_secs(), "seconds");
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let (step, done) = (step.clone(), done.clone());
        workers.spawn(async move {
            while Instant::now() < deadline {
                let n = done.fetch_add(1, Ordering::Relaxed);
                step(w, n).await;
            }
        });
    }
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.set_position(started.elapsed().as_secs());
            }
        })
    };
    while workers.join_next().await.is_some() {}
    ticker.abort();
    bar.finish_and_clear();
    started.elapsed()
}

/// Parses "1,8,64".
pub fn parse_levels(s: &str) -> Result<Vec<usize>, String> {
    s.split(',')
        .map(|p| p.trim().parse::<usize>().map_err(|e| format!("{p:?}: {e}")))
        .filter(|r| !matches!(r, Ok(0)))
        .collect()
}
