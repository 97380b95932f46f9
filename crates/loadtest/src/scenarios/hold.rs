//! Seat holds on distinct seats, at several concurrency levels.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::bail;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;

use crate::client::Api;
use crate::setup::{admit_all, create_concert, create_users, seat_ids};
use crate::stats::print_table;
use crate::{say, Ctx, Outcome};

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Concurrency levels, comma-separated.
    #[arg(long, default_value = "1,8,64")]
    pub levels: String,
    /// Holds per level (each on its own seat; at most 2000).
    #[arg(long, default_value_t = 1000)]
    pub holds: u32,
    /// The server's reservation.max_holds_per_user: decides how many users are needed.
    #[arg(long, default_value_t = 4)]
    pub max_holds_per_user: u32,
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    if args.holds == 0 || args.holds > 2000 {
        bail!("--holds must be 1..=2000 (one schedule's seats)");
    }
    let levels = super::parse_levels(&args.levels).map_err(anyhow::Error::msg)?;
    let setup = ctx.api.phase();
    let n_users = args.holds.div_ceil(args.max_holds_per_user.max(1)) as usize;
    let concert = create_concert(
        &setup,
        ctx.admin_key()?,
        &format!("hold {}", ctx.tag),
        &vec![(args.holds, 50_000); levels.len()],
    )
    .await?;
    let users = create_users(
        &setup,
        &format!("h{}u", ctx.tag),
        n_users,
        0,
        ctx.setup_concurrency,
    )
    .await?;
    let tokens = admit_all(&setup, &users, concert.concert_id).await?;
    let holders = Arc::new(users.into_iter().zip(tokens).collect::<Vec<_>>());
    say!(
        "hold: {} holds per level on distinct seats, levels {:?}, {} users (max {} holds each)",
        args.holds,
        levels,
        holders.len(),
        args.max_holds_per_user
    );

    let mut results = Vec::new();
    let mut passed = true;
    for (schedule, &concurrency) in concert.schedules.iter().zip(&levels) {
        let (user0, token0) = &holders[0];
        let seats = Arc::new(
            seat_ids(
                &setup,
                user0,
                token0,
                concert.concert_id,
                schedule.schedule_id,
            )
            .await?,
        );
        let api = ctx.api.phase();
        let next = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (api, next, made, holders, seats) = (
                api.clone(),
                next.clone(),
                made.clone(),
                holders.clone(),
                seats.clone(),
            );
            let schedule_id = schedule.schedule_id;
            workers.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= seats.len() {
                        break;
                    }
                    let u = i % holders.len();
                    let (user, token) = &holders[u];
                    if let Ok(reply) = api.hold(user, token, schedule_id, seats[i]).await {
                        if let (true, Ok(id)) = (reply.status == 201, reply.i64("reservationId")) {
                            made.lock().expect("lock").push((u, id));
                        }
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let elapsed = started.elapsed();
        let rows = api.stats().report(elapsed);
        print_table(&format!("hold, concurrency {concurrency}"), elapsed, &rows);
        let made = std::mem::take(&mut *made.lock().expect("lock"));
        let ok = made.len();
        passed &= ok == seats.len();
        say!(
            "  holds/s: {:.1} ({} of {} held)",
            ok as f64 / elapsed.as_secs_f64(),
            ok,
            seats.len()
        );
        results.push(json!({
            "concurrency": concurrency,
            "holds": seats.len(),
            "held": ok,
            "elapsedSecs": elapsed.as_secs_f64(),
            "holdsPerSec": ok as f64 / elapsed.as_secs_f64(),
            "endpoints": rows,
        }));
        release(&setup, &holders, made).await;
    }
    Ok(Outcome {
        result: json!({ "users": holders.len(), "levels": results }),
        passed,
    })
}

/// Cancels the level's holds (untimed) so the users' hold limit is free again.
async fn release(api: &Api, holders: &[(crate::client::User, String)], made: Vec<(usize, i64)>) {
    futures::stream::iter(made)
        .for_each_concurrent(16, |(u, id)| async move {
            let _ = api.cancel(&holders[u].0, id).await;
        })
        .await;
}
