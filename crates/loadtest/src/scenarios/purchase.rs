//! Purchases: admitted users each hold a distinct seat and pay for it (two
//! requests), at several concurrency levels.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;

use crate::client::{Api, User};
use crate::setup::{admit_all, create_concert, create_users, seat_ids};
use crate::stats::print_table;
use crate::{say, Ctx, Outcome};

/// What one seat costs in this scenario.
const PRICE: i64 = 50_000;

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Concurrency levels, comma-separated.
    #[arg(long, default_value = "8,32")]
    pub levels: String,
    /// Purchases per level: one user each (a payment ends the user's queue
    /// token), so this many users are created; at most 2000.
    #[arg(long, default_value_t = 500)]
    pub purchases: u32,
}

/// Latency of whole purchases (hold + pay), in microseconds.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 300_000_000, 3).expect("valid histogram bounds")
}

/// Holds `seat` and pays for it; the purchase's latency if both succeeded.
async fn purchase(
    api: &Api,
    user: &User,
    token: &str,
    schedule_id: i64,
    seat: i64,
    key: &str,
) -> Option<Duration> {
    let started = Instant::now();
    let held = api.hold(user, token, schedule_id, seat).await.ok()?;
    if held.status != 201 {
        return None;
    }
    let reservation = held.i64("reservationId").ok()?;
    let paid = api.pay(user, token, reservation, key).await.ok()?;
    paid.is_success().then(|| started.elapsed())
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    if args.purchases == 0 || args.purchases > 2000 {
        bail!("--purchases must be 1..=2000 (one schedule's seats)");
    }
    let levels = super::parse_levels(&args.levels).map_err(anyhow::Error::msg)?;
    let setup = ctx.api.phase();
    let n = args.purchases as usize;
    // Every level buys one seat per user, each from its own concert.
    let users = Arc::new(
        create_users(
            &setup,
            &format!("p{}u", ctx.tag),
            n,
            PRICE * levels.len() as i64,
            ctx.setup_concurrency,
        )
        .await?,
    );
    say!(
        "purchase: {} purchases per level (hold + pay, distinct seats, one per user), levels {:?}",
        n,
        levels
    );

    let mut results = Vec::new();
    let mut passed = true;
    for (level, &concurrency) in levels.iter().enumerate() {
        // Untimed: a concert of its own, every user admitted, the seat ids.
        let concert = create_concert(
            &setup,
            ctx.admin_key()?,
            &format!("purchase {} c{concurrency} #{level}", ctx.tag),
            &[(args.purchases, PRICE)],
        )
        .await?;
        let schedule_id = concert.schedules[0].schedule_id;
        // Every buyer admitted at once, whatever the server's cap (a sale's K
        // would let the first admitted lapse while the last still wait).
        setup
            .control_queue(
                ctx.admin_key()?,
                concert.concert_id,
                &json!({ "maxActive": n }),
            )
            .await?
            .into_ok("open the concert's line to every buyer")?;
        let tokens = Arc::new(admit_all(&setup, &users, concert.concert_id).await?);
        let seats = Arc::new(
            seat_ids(
                &setup,
                &users[0],
                &tokens[0],
                concert.concert_id,
                schedule_id,
            )
            .await?,
        );
        if seats.len() < n {
            bail!("schedule {schedule_id} has {} seats, not {n}", seats.len());
        }

        let api = ctx.api.phase();
        let next = Arc::new(AtomicUsize::new(0));
        let latencies = Arc::new(Mutex::new(histogram()));
        let tag = ctx.tag.clone();
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (api, next, latencies, users, tokens, seats, tag) = (
                api.clone(),
                next.clone(),
                latencies.clone(),
                users.clone(),
                tokens.clone(),
                seats.clone(),
                tag.clone(),
            );
            workers.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let key = format!("purchase-{tag}-{level}-{i}");
                    let took =
                        purchase(&api, &users[i], &tokens[i], schedule_id, seats[i], &key).await;
                    if let Some(took) = took {
                        let micros = (took.as_micros() as u64).clamp(1, 300_000_000);
                        latencies.lock().expect("lock").saturating_record(micros);
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let elapsed = started.elapsed();
        let rows = api.stats().report(elapsed);
        print_table(
            &format!("purchase, concurrency {concurrency}"),
            elapsed,
            &rows,
        );
        let h = latencies.lock().expect("lock").clone();
        let orders = h.len() as usize;
        passed &= orders == n;
        let q = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        let per_sec = orders as f64 / elapsed.as_secs_f64();
        say!(
            "  orders/s: {per_sec:.1} ({orders} of {n} bought), purchase p50 {:.2} ms, p99 {:.2} ms",
            q(0.5),
            q(0.99)
        );
        results.push(json!({
            "concurrency": concurrency,
            "purchases": n,
            "orders": orders,
            "elapsedSecs": elapsed.as_secs_f64(),
            "ordersPerSec": per_sec,
            "purchaseP50Ms": q(0.5),
            "purchaseP95Ms": q(0.95),
            "purchaseP99Ms": q(0.99),
            "purchaseMaxMs": h.max() as f64 / 1000.0,
            "endpoints": rows,
        }));
    }
    Ok(Outcome {
        result: json!({ "users": users.len(), "levels": results }),
        passed,
    })
}
