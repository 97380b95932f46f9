//! `concert-loadtest`: drives a running concert server over HTTP.

mod client;
mod report;
mod scenarios;
mod setup;
mod stats;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::client::Api;

/// Human output goes to stderr when the JSON report goes to stdout.
static HUMAN_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// `println!` for the human report (stderr under `--json` without a path).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say_line(format!($($arg)*))
    };
}

pub fn say_line(line: String) {
    if HUMAN_TO_STDERR.load(Ordering::Relaxed) {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Load generator for the concert reservation service.
///
/// Drives a RUNNING server (start it yourself, or use scripts/bench.sh, which
/// starts one with suitable settings). Every scenario creates its own users
/// and concert, so runs can be repeated against the same database. Set-up
/// (sign-up, log-in, charging, admission) is untimed; only the scenario's
/// timed phase is measured. Latencies are from sending a request to having
/// read its whole body.
#[derive(Parser)]
#[command(name = "concert-loadtest", version)]
struct Cli {
    /// The server to drive (only ever a local one).
    #[arg(
        long,
        global = true,
        env = "LOADTEST_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    /// The server's `admin.api_key`, used to create the scenario's concert.
    #[arg(long, global = true, env = "LOADTEST_ADMIN_KEY")]
    admin_key: Option<String>,
    /// Also write the result as JSON: to PATH, or to stdout when no PATH is
    /// given (the human report then goes to stderr).
    #[arg(long, global = true, value_name = "PATH", num_args = 0..=1, default_missing_value = "-")]
    json: Option<String>,
    /// Per-request timeout; a request that takes longer counts as `transport timeout`.
    #[arg(long, global = true, default_value_t = 60)]
    request_timeout_secs: u64,
    /// How many users are created at once during set-up. Each sign-up and each
    /// log-in costs the server one Argon2id hash (19 MiB, about 1 core for tens of ms).
    #[arg(long, global = true, default_value_t = 16)]
    setup_concurrency: usize,
    /// No progress bars.
    #[arg(long, global = true)]
    no_progress: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// The flash sale: everybody joins the queue at once; the admitted buy one seat each.
    ///
    /// U users (created untimed) join one concert's queue at the same instant; each polls its token until ACTIVE, reads the seat map,
    /// holds a random AVAILABLE seat (another one on 409 SEAT_UNAVAILABLE, up
    /// to --hold-attempts), pays, and leaves. A user who finds no AVAILABLE
    /// seat gives up and simply stops (its ACTIVE window lapses by the server's
    /// queue.active_ttl_secs). Ends when sold out (WAITING users then stop) or
    /// when every user is done, or at --timeout-secs. Reports time to sell
    /// out, per-endpoint throughput and latency, errors by code and queue
    /// wait; then checks through the API that no seat was sold twice, sold
    /// seats = successful payments <= seats, and every balance = charges -
    /// payments. Exits 1 on any violation. The queue cap is the server's
    /// queue.max_active_per_concert.
    FlashSale(scenarios::flash_sale::Args),
    /// Seat holds on distinct seats at several concurrency levels.
    ///
    /// Holds on distinct seats at each concurrency level (default 1, 8, 64): holds/s and latency per level. Users are admitted first, so the
    /// server's queue cap must be at least the number of users
    /// (ceil(holds / max-holds-per-user)).
    Hold(scenarios::hold::Args),
    /// Purchases: admitted users each hold a distinct seat and pay for it.
    ///
    /// Two requests per purchase (hold, then pay with an Idempotency-Key), one
    /// purchase per user (paying ends the user's queue token), at each
    /// concurrency level (default 8, 32), each level on a concert of its own:
    /// orders/s and purchase latency. The server's queue cap must be at least
    /// --purchases.
    Purchase(scenarios::purchase::Args),
    /// Many users race for one seat: exactly one may win.
    ///
    /// N contenders (default 100) try to hold the same seat at once, for R
    /// rounds on R seats: every round must have exactly one 201 and N-1 409
    /// SEAT_UNAVAILABLE. Reports correctness and hold latency under contention.
    Contend(scenarios::contend::Args),
    /// Seat-map reads of one schedule at concurrency C for D seconds.
    ///
    /// The answer lists every seat of the schedule (--seats). Compare with
    /// `health` at the same concurrency: the ratio is what the seat map costs
    /// over the bare HTTP stack.
    SeatMap(scenarios::seat_map::Args),
    /// Queue position reads while a long line (default 100,000) waits.
    ///
    /// Inserts W WAITING tokens
    /// straight into PostgreSQL (--database-url; users with a dummy password
    /// hash, like many people in line before us), then a few real users join
    /// over HTTP and their tokens are polled at concurrency C for D seconds.
    QueuePoll(scenarios::queue_poll::Args),
    /// GET /health/live at concurrency C for D seconds (HTTP baseline).
    ///
    /// The HTTP stack's own
    /// ceiling on this machine, the baseline for seat-map.
    Health(scenarios::health::Args),
    /// Not a scenario: writes report.md and report.json from bench.sh's files.
    ///
    /// Gathers the files scripts/bench.sh wrote into report.md
    /// and report.json.
    Report(report::Args),
}

/// What every scenario gets.
pub struct Ctx {
    pub api: Api,
    pub admin_key: Option<String>,
    pub setup_concurrency: usize,
    pub tag: String,
}

impl Ctx {
    pub fn admin_key(&self) -> anyhow::Result<&str> {
        self.admin_key
            .as_deref()
            .context("--admin-key (or LOADTEST_ADMIN_KEY) is required to create the concert")
    }
}

/// A scenario's result: its JSON, and whether its checks passed.
pub struct Outcome {
    pub result: serde_json::Value,
    pub passed: bool,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("concert-loadtest: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    HUMAN_TO_STDERR.store(cli.json.as_deref() == Some("-"), Ordering::Relaxed);
    setup::set_progress(!cli.no_progress);
    let ctx = Ctx {
        api: Api::new(&cli.base_url, Duration::from_secs(cli.request_timeout_secs))?,
        admin_key: cli.admin_key.clone(),
        setup_concurrency: cli.setup_concurrency,
        tag: setup::run_tag(),
    };
    let started_at = chrono::Utc::now();
    let (name, args, outcome) = match &cli.scenario {
        Scenario::FlashSale(a) => (
            "flash-sale",
            serde_json::to_value(a)?,
            scenarios::flash_sale::run(&ctx, a).await?,
        ),
        Scenario::Hold(a) => (
            "hold",
            serde_json::to_value(a)?,
            scenarios::hold::run(&ctx, a).await?,
        ),
        Scenario::Purchase(a) => (
            "purchase",
            serde_json::to_value(a)?,
            scenarios::purchase::run(&ctx, a).await?,
        ),
        Scenario::Contend(a) => (
            "contend",
            serde_json::to_value(a)?,
            scenarios::contend::run(&ctx, a).await?,
        ),
        Scenario::SeatMap(a) => (
            "seat-map",
            serde_json::to_value(a)?,
            scenarios::seat_map::run(&ctx, a).await?,
        ),
        Scenario::QueuePoll(a) => (
            "queue-poll",
            serde_json::to_value(a)?,
            scenarios::queue_poll::run(&ctx, a).await?,
        ),
        Scenario::Health(a) => (
            "health",
            serde_json::to_value(a)?,
            scenarios::health::run(&ctx, a).await?,
        ),
        Scenario::Report(a) => {
            report::run(a)?;
            return Ok(true);
        }
    };
    if let Some(path) = &cli.json {
        let doc = json!({
            "scenario": name,
            "baseUrl": cli.base_url,
            "startedAt": started_at.to_rfc3339(),
            "args": args,
            "passed": outcome.passed,
            "result": outcome.result,
        });
        let text = serde_json::to_string_pretty(&doc)?;
        if path == "-" {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")?;
        } else {
            std::fs::write(path, text + "\n").with_context(|| format!("writing {path}"))?;
        }
    }
    say!(
        "\n{name}: {}",
        if outcome.passed { "PASSED" } else { "FAILED" }
    );
    Ok(outcome.passed)
}
