//! The flash sale's invariants, checked through the API after the sale.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use serde_json::{json, Value};

use super::flash_sale::{Args, Run};
use crate::client::{Api, User};
use crate::setup::{progress, retrying, Concert};
use crate::{say, Ctx};

/// What one user's account shows after the sale.
struct Account {
    confirmed: Vec<(i64, i64)>,
    live_holds: u64,
    balance: i64,
}

async fn read_account(api: &Api, user: &User, schedule_id: i64) -> anyhow::Result<Account> {
    let list = retrying(|| api.reservations(user))
        .await?
        .into_ok("reservations")?;
    let balance = retrying(|| api.balance(user)).await?.into_ok("points")?;
    let mut account = Account {
        confirmed: Vec::new(),
        live_holds: 0,
        balance: balance["balance"].as_i64().context("no balance")?,
    };
    for r in list["reservations"].as_array().into_iter().flatten() {
        if r["scheduleId"].as_i64() != Some(schedule_id) {
            continue;
        }
        match r["status"].as_str() {
            Some("CONFIRMED") => account.confirmed.push((
                r["seatId"].as_i64().unwrap_or(0),
                r["price"].as_i64().unwrap_or(0),
            )),
            Some("HELD") => account.live_holds += 1,
            _ => {}
        }
    }
    Ok(account)
}

pub async fn check_invariants(
    ctx: &Ctx,
    args: &Args,
    concert: &Concert,
    users: &[User],
    runs: &HashMap<usize, Run>,
    charge: i64,
) -> anyhow::Result<Value> {
    let api = ctx.api.phase();
    let schedule_id = concert.schedules[0].schedule_id;
    let started = Instant::now();
    let bar = progress(users.len() as u64, "checking");
    let accounts: Vec<(usize, anyhow::Result<Account>)> =
        futures::stream::iter(users.iter().enumerate())
            .map(|(i, u)| {
                let (api, bar) = (api.clone(), bar.clone());
                async move {
                    let a = read_account(&api, u, schedule_id).await;
                    bar.inc(1);
                    (i, a)
                }
            })
            .buffer_unordered(args.check_concurrency.max(1))
            .collect()
            .await;
    bar.finish_and_clear();

    let mut problems: Vec<String> = Vec::new();
    let mut unreadable = 0u64;
    let mut confirmed_total = 0u64;
    let mut live_holds = 0u64;
    let mut balance_mismatches = 0u64;
    let mut payment_mismatches = 0u64;
    let mut owners: HashMap<i64, u32> = HashMap::new();
    for (i, account) in &accounts {
        let user = &users[*i];
        let account = match account {
            Ok(a) => a,
            Err(e) => {
                unreadable += 1;
                problems.push(format!("{}: account unreadable: {e:#}", user.login_id));
                continue;
            }
        };
        confirmed_total += account.confirmed.len() as u64;
        live_holds += account.live_holds;
        for (seat, _) in &account.confirmed {
            *owners.entry(*seat).or_default() += 1;
        }
        let spent: i64 = account.confirmed.iter().map(|(_, p)| p).sum();
        if account.balance != charge - spent {
            balance_mismatches += 1;
            problems.push(format!(
                "{}: balance {} but charged {charge} and paid {spent}",
                user.login_id, account.balance
            ));
        }
        let run = runs.get(i);
        let acknowledged = run.is_some_and(|r| r.paid) as usize;
        let unknown = !matches!(run, Some(r) if !r.payment_unknown);
        if account.confirmed.len() != acknowledged && !unknown {
            payment_mismatches += 1;
            problems.push(format!(
                "{}: {} CONFIRMED reservations but {acknowledged} payments answered 201",
                user.login_id,
                account.confirmed.len()
            ));
        }
    }
    let duplicate_seats = owners.values().filter(|n| **n > 1).count() as u64;
    if duplicate_seats > 0 {
        problems.push(format!(
            "{duplicate_seats} seats have more than one CONFIRMED reservation"
        ));
    }
    let oversold = confirmed_total > u64::from(args.seats);
    if oversold {
        problems.push(format!(
            "{confirmed_total} CONFIRMED reservations for {} seats",
            args.seats
        ));
    }
    // The public schedule list must agree: free seats = seats - sold - held.
    let schedules = retrying(|| api.schedules(concert.concert_id))
        .await?
        .into_ok("schedules")?;
    let available = schedules["schedules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["scheduleId"].as_i64() == Some(schedule_id))
        .and_then(|s| s["availableSeats"].as_u64());
    let expected_available = u64::from(args.seats).saturating_sub(confirmed_total + live_holds);
    let availability_mismatch = available != Some(expected_available);
    if availability_mismatch {
        problems.push(format!(
            "schedule shows {available:?} available seats, expected {expected_available} \
             ({} seats - {confirmed_total} sold - {live_holds} held)",
            args.seats
        ));
    }
    let acknowledged: u64 = runs.values().filter(|r| r.paid).count() as u64;
    let violations = unreadable
        + balance_mismatches
        + payment_mismatches
        + duplicate_seats
        + oversold as u64
        + availability_mismatch as u64;

    say!(
        "\ninvariants (checked through the API in {:.1} s):",
        started.elapsed().as_secs_f64()
    );
    say!("  CONFIRMED reservations: {confirmed_total} (payments answered 201: {acknowledged}; seats: {})", args.seats);
    say!("  seats with two CONFIRMED reservations: {duplicate_seats}");
    say!("  balances != charges - payments: {balance_mismatches}");
    say!("  users whose CONFIRMED count != their 201 payments: {payment_mismatches}");
    say!(
        "  schedule availableSeats: {available:?} (expected {expected_available}; live holds {live_holds})"
    );
    say!("  unreadable accounts: {unreadable}");
    say!("  violations: {violations}");
    for p in problems.iter().take(20) {
        say!("    {p}");
    }
    let check_rows = api.stats().report(started.elapsed());
    Ok(json!({
        "confirmedReservations": confirmed_total,
        "paymentsAnswered201": acknowledged,
        "liveHolds": live_holds,
        "duplicateSeats": duplicate_seats,
        "oversold": oversold,
        "balanceMismatches": balance_mismatches,
        "paymentMismatches": payment_mismatches,
        "availableSeats": available,
        "expectedAvailableSeats": expected_available,
        "unreadableAccounts": unreadable,
        "violations": violations,
        "examples": problems.iter().take(50).collect::<Vec<_>>(),
        "checkSecs": started.elapsed().as_secs_f64(),
        "checkEndpoints": check_rows,
    }))
}
