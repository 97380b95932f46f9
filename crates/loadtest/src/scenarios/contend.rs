//! Many users try to hold the same seat at the same instant: exactly one may win.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::setup::{admit_all, create_concert, create_users, seat_ids, seats_of};
use crate::stats::{print_table, Durations};
use crate::{say, Ctx, Outcome};

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Users racing for each seat (the server's queue cap must admit them all).
    #[arg(long, default_value_t = 100)]
    pub contenders: usize,
    /// Rounds, each on a fresh seat (at most 2000).
    #[arg(long, default_value_t = 20)]
    pub rounds: u32,
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    if args.rounds == 0 || args.rounds > 2000 || args.contenders < 2 {
        bail!("--rounds must be 1..=2000 and --contenders at least 2");
    }
    let setup = ctx.api.phase();
    let concert = create_concert(
        &setup,
        ctx.admin_key()?,
        &format!("contend {}", ctx.tag),
        &[(args.rounds, 50_000)],
    )
    .await?;
    let (concert_id, schedule_id) = (concert.concert_id, concert.schedules[0].schedule_id);
    let users = create_users(
        &setup,
        &format!("c{}u", ctx.tag),
        args.contenders,
        0,
        ctx.setup_concurrency,
    )
    .await?;
    let tokens = admit_all(&setup, &users, concert_id).await?;
    let contenders = Arc::new(users.into_iter().zip(tokens).collect::<Vec<_>>());
    let seats = seat_ids(
        &setup,
        &contenders[0].0,
        &contenders[0].1,
        concert_id,
        schedule_id,
    )
    .await?;
    say!(
        "contend: {} contenders per seat, {} rounds",
        contenders.len(),
        args.rounds
    );

    let api = ctx.api.phase();
    let mut round_times = Durations::default();
    let mut correct_rounds = 0;
    let mut anomalies: Vec<Value> = Vec::new();
    let mut winners_total = 0;
    let started = Instant::now();
    for (round, &seat_id) in seats.iter().enumerate() {
        let barrier = Arc::new(Barrier::new(contenders.len()));
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..contenders.len() {
            let (api, barrier, contenders) = (api.clone(), barrier.clone(), contenders.clone());
            tasks.spawn(async move {
                let (user, token) = &contenders[c];
                barrier.wait().await;
                let sent = Instant::now();
                let reply = api.hold(user, token, schedule_id, seat_id).await;
                let outcome = match reply {
                    Ok(r) if r.status == 201 => Ok(r.i64("reservationId").unwrap_or(0)),
                    Ok(r) => Err(format!("{} {}", r.status, r.code())),
                    Err(e) => Err(e.to_string()),
                };
                (c, sent, Instant::now(), outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(r) = tasks.join_next().await {
            results.push(r?);
        }
        let first = results.iter().map(|r| r.1).min().expect("contenders");
        let last = results.iter().map(|r| r.2).max().expect("contenders");
        round_times.record(last - first);
        let winners: Vec<_> = results
            .iter()
            .filter_map(|(c, _, _, o)| o.as_ref().ok().map(|id| (*c, *id)))
            .collect();
        let conflicts = results
            .iter()
            .filter(|r| matches!(&r.3, Err(code) if code == "409 SEAT_UNAVAILABLE"))
            .count();
        winners_total += winners.len();
        // The seat map must agree: this seat is now HELD.
        let (u0, t0) = &contenders[0];
        let map = setup
            .seat_map(u0, t0, concert_id, schedule_id)
            .await?
            .into_ok("seat map")?;
        let status = seats_of(&map)
            .into_iter()
            .find(|(id, _)| *id == seat_id)
            .map(|(_, s)| s)
            .unwrap_or_default();
        let ok = winners.len() == 1 && conflicts == contenders.len() - 1 && status == "HELD";
        if ok {
            correct_rounds += 1;
        } else {
            let other: Vec<_> = results
                .iter()
                .filter_map(|r| r.3.as_ref().err())
                .filter(|c| *c != "409 SEAT_UNAVAILABLE")
                .cloned()
                .collect();
            anomalies.push(json!({
                "round": round, "seatId": seat_id, "winners": winners.len(),
                "seatConflicts": conflicts, "seatStatus": status, "otherOutcomes": other,
            }));
        }
        // Untimed: free the winner's hold so nobody reaches the per-user limit.
        for (c, id) in winners {
            let _ = setup.cancel(&contenders[c].0, id).await;
        }
    }
    let elapsed = started.elapsed();

    // Every 201 must be exactly one reservation on the server, and no more.
    let seen: usize = futures::stream::iter(contenders.iter())
        .map(|(user, _)| {
            let setup = setup.clone();
            async move {
                match setup.reservations(user).await {
                    Ok(r) if r.is_success() => r.body()["reservations"]
                        .as_array()
                        .map(|rs| {
                            rs.iter()
                                .filter(|x| x["scheduleId"].as_i64() == Some(schedule_id))
                                .count()
                        })
                        .unwrap_or(0),
                    _ => 0,
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .sum();

    let rows = api.stats().report(elapsed);
    print_table("contend (all rounds)", elapsed, &rows);
    say!(
        "  rounds with exactly one winner: {correct_rounds}/{}; 201s answered: {winners_total}, \
         reservations on the server: {seen}",
        seats.len()
    );
    say!(
        "  round time (first request sent to last answer): p50 {:.3} s, p95 {:.3} s, max {:.3} s",
        round_times.secs(0.5),
        round_times.secs(0.95),
        round_times.max_secs()
    );
    for a in &anomalies {
        say!("  anomaly: {a}");
    }
    let passed = correct_rounds == seats.len() && seen == winners_total;
    Ok(Outcome {
        result: json!({
            "contenders": contenders.len(),
            "rounds": seats.len(),
            "correctRounds": correct_rounds,
            "winnersAnswered": winners_total,
            "reservationsOnServer": seen,
            "roundTime": round_times.summary(),
            "anomalies": anomalies,
            "endpoints": rows,
        }),
        passed,
    })
}
