//! `GET /health/live` under the same generator: the HTTP stack's own ceiling.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::stats::print_table;
use crate::{say, Ctx, Outcome};

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    let api = ctx.api.phase();
    api.health_live().await?.into_ok("health")?;
    say!(
        "health: GET /health/live at concurrency {} for {} s",
        args.concurrency,
        args.duration_secs
    );
    let worker_api = api.clone();
    let elapsed = super::closed_loop(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        move |_, _| {
            let api = worker_api.clone();
            async move {
                let _ = api.health_live().await;
            }
        },
    )
    .await;
    let rows = api.stats().report(elapsed);
    print_table("health", elapsed, &rows);
    let errors: u64 = rows.iter().map(|r| r.requests - r.ok).sum();
    Ok(Outcome {
        result: json!({
            "concurrency": args.concurrency,
            "elapsedSecs": elapsed.as_secs_f64(),
            "endpoints": rows,
        }),
        passed: errors == 0,
    })
}
