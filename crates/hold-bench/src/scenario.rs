//! The two workloads: many contenders for one seat, and workers on seats of their own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::strategy::{Ctx, Outcome, Strategy};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Each round, N tasks race for one fresh seat; exactly one must win.
    OneSeat,
    /// N workers each hold fresh seats of their own in a loop; every attempt must win.
    Distinct,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::OneSeat => "one-seat",
            Scenario::Distinct => "distinct",
        }
    }
}

/// Fresh seats inserted by `BenchDb::reset`, handed out once each.
pub struct Seats {
    next: AtomicI64,
    end: i64,
}

impl Seats {
    pub fn new(first: i64, count: i64) -> Self {
        Seats {
            next: AtomicI64::new(first),
            end: first + count,
        }
    }

    fn take(&self) -> Option<i64> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        (id < self.end).then_some(id)
    }

    /// One past the last seat handed out.
    pub fn used_end(&self) -> i64 {
        self.next.load(Ordering::Relaxed).min(self.end)
    }

    pub fn ran_out(&self) -> bool {
        self.next.load(Ordering::Relaxed) > self.end
    }
}

/// What one run measured.
pub struct Tally {
    /// Rounds (one seat) or successful holds (distinct seats).
    pub ops: u64,
    pub elapsed: Duration,
    /// Per attempt, in microseconds, from before the first pool or Redis call to the end.
    pub latency_us: Histogram<u64>,
    pub attempts: u64,
    /// Rounds without exactly one winner (one seat), attempts that did not win (distinct).
    pub wrong: u64,
    /// Losses reported by the unique index although the strategy's own check passed.
    pub index_refusals: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            ops: 0,
            elapsed: Duration::ZERO,
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            attempts: 0,
            wrong: 0,
            index_refusals: 0,
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, result: anyhow::Result<Outcome>, took: Duration) -> bool {
        self.attempts += 1;
        self.latency_us
            .saturating_record(took.as_micros().max(1) as u64);
        match result {
            Ok(Outcome::Won) => return true,
            Ok(Outcome::Lost) => {}
            Ok(Outcome::LostToIndex) => self.index_refusals += 1,
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
        false
    }

    fn merge(&mut self, other: Tally) {
        self.ops += other.ops;
        self.latency_us
            .add(&other.latency_us)
            .expect("same histogram bounds");
        self.attempts += other.attempts;
        self.wrong += other.wrong;
        self.index_refusals += other.index_refusals;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

pub async fn run(
    scenario: Scenario,
    strategy: Strategy,
    ctx: &Arc<Ctx>,
    seats: &Arc<Seats>,
    n: usize,
    duration: Duration,
) -> anyhow::Result<Tally> {
    match scenario {
        Scenario::OneSeat => one_seat(strategy, ctx, seats, n, duration).await,
        Scenario::Distinct => distinct(strategy, ctx, seats, n, duration).await,
    }
}

/// Rounds until `duration` is up. `elapsed` counts only the races, not the
/// gaps between rounds.
async fn one_seat(
    strategy: Strategy,
    ctx: &Arc<Ctx>,
    seats: &Seats,
    n: usize,
    duration: Duration,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new();
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        let Some(seat) = seats.take() else { break };
        let start = Arc::new(Barrier::new(n));
        let race = Instant::now();
        let mut contenders = JoinSet::new();
        for i in 0..n {
            let (ctx, start) = (ctx.clone(), start.clone());
            // A distinct user per contender and round.
            let user_id = seat * 1_000 + i as i64;
            contenders.spawn(async move {
                start.wait().await;
                let t = Instant::now();
                let result = strategy.attempt(&ctx, seat, user_id).await;
                (result, t.elapsed())
            });
        }
        let mut winners = 0;
        while let Some(joined) = contenders.join_next().await {
            let (result, took) = joined?;
            if tally.record(result, took) {
                winners += 1;
            }
        }
        tally.elapsed += race.elapsed();
        tally.ops += 1;
        if winners != 1 {
            tally.wrong += 1;
        }
    }
    Ok(tally)
}

/// `n` workers, each taking the next fresh seat, until `duration` is up.
async fn distinct(
    strategy: Strategy,
    ctx: &Arc<Ctx>,
    seats: &Arc<Seats>,
    n: usize,
    duration: Duration,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = JoinSet::new();
    for _ in 0..n {
        let (ctx, seats) = (ctx.clone(), seats.clone());
        workers.spawn(async move {
            let mut part = Tally::new();
            while Instant::now() < deadline {
                let Some(seat) = seats.take() else { break };
                let t = Instant::now();
                let result = strategy.attempt(&ctx, seat, seat).await;
                if part.record(result, t.elapsed()) {
                    part.ops += 1;
                } else {
                    part.wrong += 1;
                }
            }
            part
        });
    }
    let mut tally = Tally::new();
    while let Some(part) = workers.join_next().await {
        tally.merge(part?);
    }
    tally.elapsed = started.elapsed();
    Ok(tally)
}
