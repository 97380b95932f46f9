//! hold-bench: four ways to take a seat hold on PostgreSQL, side by side.
//!
//! Creates its own database next to `--database-url`, runs every strategy in
//! both scenarios at each N, prints a markdown table (or `--json`) and drops
//! the database. Exits non-zero if any run had other than one winner per seat.

mod db;
mod scenario;
mod strategy;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use redis::aio::ConnectionManager;
use serde_json::json;

use db::{BenchDb, POOL_SIZE};
use scenario::{Scenario, Seats, Tally};
use strategy::{Ctx, Strategy};

#[derive(Parser)]
#[command(name = "hold-bench", about)]
struct Args {
    /// Seconds per measurement (one strategy, scenario and N).
    #[arg(long, default_value_t = 3)]
    duration_secs: u64,
    /// A server to create the bench database on; the database named here is only used to connect.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// Redis for the redis-lock strategy.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Concurrent tasks (contenders or workers), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10, 100])]
    n: Vec<usize>,
    /// Strategies to run, comma-separated (default: all four).
    #[arg(long, value_enum, value_delimiter = ',')]
    strategies: Vec<Strategy>,
    /// Scenarios to run, comma-separated (default: both).
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Vec<Scenario>,
    /// Fresh seats inserted before each run (default: 40,000 per second of duration).
    #[arg(long)]
    seats_per_run: Option<i64>,
    /// Print JSON instead of the markdown table.
    #[arg(long)]
    json: bool,
}

struct Row {
    strategy: Strategy,
    scenario: Scenario,
    n: usize,
    tally: Tally,
    /// Seats used in the run whose live reservations are not exactly one.
    bad_seats: i64,
    ran_out_of_seats: bool,
}

impl Row {
    fn correct(&self) -> bool {
        self.tally.wrong == 0 && self.tally.errors == 0 && self.bad_seats == 0
    }

    fn ops_per_sec(&self) -> f64 {
        self.tally.ops as f64 / self.tally.elapsed.as_secs_f64().max(1e-9)
    }

    fn ms(&self, quantile: f64) -> f64 {
        self.tally.latency_us.value_at_quantile(quantile) as f64 / 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.tally.latency_us.max() as f64 / 1000.0
    }
}

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    if args.strategies.is_empty() {
        args.strategies = Strategy::ALL.to_vec();
    }
    if args.scenarios.is_empty() {
        args.scenarios = vec![Scenario::OneSeat, Scenario::Distinct];
    }
    let bench = match BenchDb::create(&args.database_url).await {
        Ok(bench) => bench,
        Err(e) => {
            eprintln!("hold-bench: {e:#}");
            std::process::exit(2);
        }
    };
    let result = tokio::select! {
        result = run_all(&args, &bench) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let name = bench.name.clone();
    if let Err(e) = bench.drop_database().await {
        eprintln!("hold-bench: could not drop database {name}: {e:#}");
    }
    match result {
        Ok(rows) => {
            if args.json {
                println!("{}", to_json(&args, &rows));
            } else {
                print!("{}", to_markdown(&args, &rows));
            }
            if rows.iter().any(|r| !r.correct()) {
                eprintln!("hold-bench: some runs did not have exactly one winner per seat");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("hold-bench: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run_all(args: &Args, bench: &BenchDb) -> anyhow::Result<Vec<Row>> {
    let redis =
        if args.strategies.contains(&Strategy::RedisLock) {
            let client = redis::Client::open(args.redis_url.as_str())?;
            Some(ConnectionManager::new(client).await.map_err(|e| {
                anyhow::anyhow!("redis-lock needs Redis at {}: {e}", args.redis_url)
            })?)
        } else {
            None
        };
    let ctx = Arc::new(Ctx {
        pool: bench.pool.clone(),
        redis,
    });
    let duration = Duration::from_secs(args.duration_secs);
    let seats_per_run = args
        .seats_per_run
        .unwrap_or(40_000 * args.duration_secs.max(1) as i64);

    // Warm up connections, prepared statements and caches; not reported.
    for &strategy in &args.strategies {
        let seats = Arc::new(Seats::new(bench.reset(5_000).await?, 5_000));
        let warm = Duration::from_millis(300);
        scenario::run(Scenario::Distinct, strategy, &ctx, &seats, 10, warm).await?;
    }

    let mut rows = Vec::new();
    // Strategies innermost, so the four are measured close together in time.
    for &scenario in &args.scenarios {
        for &n in &args.n {
            for &strategy in &args.strategies {
                let first = bench.reset(seats_per_run).await?;
                let seats = Arc::new(Seats::new(first, seats_per_run));
                let tally = scenario::run(scenario, strategy, &ctx, &seats, n, duration).await?;
                let bad_seats = bench
                    .seats_without_one_live_hold(first, seats.used_end())
                    .await?;
                let row = Row {
                    strategy,
                    scenario,
                    n,
                    tally,
                    bad_seats,
                    ran_out_of_seats: seats.ran_out(),
                };
                eprintln!(
                    "{:<12} {:<8} N={:<3} {:>9.1} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms  correct: {}{}",
                    strategy.name(),
                    scenario.name(),
                    n,
                    row.ops_per_sec(),
                    row.ms(0.5),
                    row.ms(0.99),
                    if row.correct() { "yes" } else { "NO" },
                    row.tally
                        .first_error
                        .as_deref()
                        .map(|e| format!("  first error: {e}"))
                        .unwrap_or_default(),
                );
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

fn to_markdown(args: &Args, rows: &[Row]) -> String {
    let mut out = format!(
        "PostgreSQL pool of {POOL_SIZE} connections; {} s per row. ops/s is rounds/s for \
         one-seat (N contenders race for one fresh seat per round) and holds/s for distinct \
         (N workers, each on fresh seats of its own). Latency is per attempt, pool wait \
         included: with N > {POOL_SIZE}, tasks queue for a connection.\n\n",
        args.duration_secs
    );
    out.push_str(
        "| strategy | scenario | N | ops/s | p50 ms | p99 ms | max ms | winners correct | index refusals | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} |\n",
            r.strategy.name(),
            r.scenario.name(),
            r.n,
            r.ops_per_sec(),
            r.ms(0.5),
            r.ms(0.99),
            r.max_ms(),
            if r.correct() { "yes" } else { "NO" },
            r.tally.index_refusals,
            r.tally.errors,
        ));
    }
    if rows.iter().any(|r| r.ran_out_of_seats) {
        out.push_str(
            "\nSome runs ran out of fresh seats and stopped early: raise --seats-per-run.\n",
        );
    }
    out
}

fn to_json(args: &Args, rows: &[Row]) -> serde_json::Value {
    json!({
        "pool_size": POOL_SIZE,
        "duration_secs": args.duration_secs,
        "runs": rows.iter().map(|r| json!({
            "strategy": r.strategy.name(),
            "scenario": r.scenario.name(),
            "n": r.n,
            "ops": r.tally.ops,
            "elapsed_secs": r.tally.elapsed.as_secs_f64(),
            "ops_per_sec": r.ops_per_sec(),
            "attempts": r.tally.attempts,
            "p50_ms": r.ms(0.5),
            "p99_ms": r.ms(0.99),
            "max_ms": r.max_ms(),
            "winners_correct": r.correct(),
            "wrong": r.tally.wrong,
            "bad_seats": r.bad_seats,
            "index_refusals": r.tally.index_refusals,
            "errors": r.tally.errors,
            "first_error": r.tally.first_error,
            "ran_out_of_seats": r.ran_out_of_seats,
        })).collect::<Vec<_>>(),
    })
}
