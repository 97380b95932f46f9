//! The flash sale: everybody joins at once, the admitted buy one seat each.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::client::{honouring_retry_after, Api, Reply, User};
use crate::setup::{create_concert, create_users, progress, seats_of};
use crate::stats::{print_table, Durations};
use crate::{say, Ctx, Outcome};

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Buyers (created untimed: sign-up, log-in, charge).
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Seats of the one schedule on sale (1..=2000).
    #[arg(long, default_value_t = 1000)]
    pub seats: u32,
    /// Seat price in won; each buyer is charged twice that.
    #[arg(long, default_value_t = 50_000)]
    pub price: i64,
    /// Poll interval of a WAITING token when an answer carries no
    /// `pollAfterMs`; it grows by 20% a poll. Answers that carry one are
    /// followed, as the buyer page does (the contract's pacing).
    #[arg(long, default_value_t = 300)]
    pub poll_ms: u64,
    /// Largest poll interval without `pollAfterMs`.
    #[arg(long, default_value_t = 1000)]
    pub poll_max_ms: u64,
    /// Ignore `pollAfterMs` and poll at `--poll-ms`..`--poll-max-ms` (the
    /// generator's behaviour before 2026-11-30: an impolite client).
    #[arg(long)]
    pub ignore_poll_after: bool,
    /// Seats a buyer tries before giving up on 409 SEAT_UNAVAILABLE.
    #[arg(long, default_value_t = 3)]
    pub hold_attempts: u32,
    /// Longest timed phase; then WAITING users stop and stragglers are abandoned.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
    /// The server's queue.max_active_per_concert, for the report (the load test cannot read it).
    #[arg(long)]
    pub queue_cap: Option<u32>,
    /// Requests at once during the (untimed) invariant check.
    #[arg(long, default_value_t = 32)]
    pub check_concurrency: usize,
    /// Reuse buyers between runs (the set-up's Argon2 is most of a run's
    /// time). When the file does not exist, the buyers are created, written
    /// to it, and the run stops: copy that database (`CREATE DATABASE …
    /// TEMPLATE …`) and run again with the same file against each copy.
    #[arg(long)]
    #[serde(skip)]
    pub users_file: Option<std::path::PathBuf>,
}

/// How one buyer's sale ended.
#[derive(Debug, Clone)]
enum Fate {
    Bought,
    /// The seat map had no AVAILABLE seat (left) when the user got in.
    NoSeat,
    /// Every attempted seat answered 409 SEAT_UNAVAILABLE.
    LostEveryHold,
    /// Sold out while still WAITING: stopped polling.
    StoppedWaiting,
    Failed(String),
}

impl Fate {
    fn label(&self) -> String {
        match self {
            Fate::Bought => "bought".into(),
            Fate::NoSeat => "gave up: no AVAILABLE seat".into(),
            Fate::LostEveryHold => "gave up: every hold lost (409)".into(),
            Fate::StoppedWaiting => "stopped while WAITING (sold out)".into(),
            Fate::Failed(why) => format!("failed: {why}"),
        }
    }
}

pub struct Run {
    fate: Fate,
    /// The payment was answered 201.
    pub paid: bool,
    /// A payment request got no answer: it may or may not have gone through.
    pub payment_unknown: bool,
}

impl Run {
    fn of(fate: Fate) -> Self {
        Run {
            fate,
            paid: false,
            payment_unknown: false,
        }
    }
}

struct Sale {
    api: Api,
    args: SaleArgs,
    started: Instant,
    sold: AtomicU64,
    /// When each payment was answered 201, from the start of the sale.
    sold_at: Mutex<Vec<Duration>>,
    sold_out_at: Mutex<Option<Duration>>,
    joins_answered: AtomicU64,
    last_join_at: Mutex<Duration>,
    waits: Mutex<Durations>,
    stop: watch::Sender<bool>,
    bar: ProgressBar,
}

struct SaleArgs {
    concert_id: i64,
    schedule_id: i64,
    seats: u64,
    poll: Duration,
    poll_max: Duration,
    follow_poll_after: bool,
    hold_attempts: u32,
}

/// How long one step of a buyer keeps coming back when told to (429/503 with
/// `Retry-After`) before the buyer gives up.
const RETRY_BUDGET: Duration = Duration::from_secs(120);

impl Sale {
    /// Waits `d` (±20%), or less if the sale stops; true if it stopped.
    async fn nap(&self, d: Duration) -> bool {
        let jitter = rand::thread_rng().gen_range(0.8..1.2);
        let mut stop = self.stop.subscribe();
        if *stop.borrow_and_update() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(d.mul_f64(jitter)) => false,
            _ = stop.changed() => true,
        }
    }

    /// The server's `pollAfterMs`, when the buyer follows it.
    fn poll_after(&self, answer: &Reply) -> Option<Duration> {
        let ms = answer.i64("pollAfterMs").ok()?;
        (self.args.follow_poll_after && ms > 0).then(|| Duration::from_millis(ms as u64))
    }

    async fn buyer(&self, user: &User) -> Run {
        let joined_at = Instant::now();
        let joined = honouring_retry_after(RETRY_BUDGET, || {
            self.api.join_queue(user, self.args.concert_id)
        })
        .await;
        let n = self.joins_answered.fetch_add(1, Ordering::Relaxed) + 1;
        *self.last_join_at.lock().expect("lock") = self.started.elapsed();
        self.bar.set_message(format!("joined {n}"));
        let joined = match joined {
            Ok(r) if r.is_success() => r,
            Ok(r) => return Run::of(Fate::Failed(format!("join {} {}", r.status, r.code()))),
            Err(_) => return Run::of(Fate::Failed("join: no answer".into())),
        };
        let Ok(token) = joined.str("token").map(str::to_owned) else {
            return Run::of(Fate::Failed("join: no token".into()));
        };
        let mut status = joined.str("status").unwrap_or("").to_owned();
        let mut interval = self.poll_after(&joined).unwrap_or(self.args.poll);
        while status == "WAITING" {
            if self.nap(interval).await {
                return Run::of(Fate::StoppedWaiting);
            }
            interval = interval.mul_f64(1.2).min(self.args.poll_max);
            match self.api.current_token(user, &token).await {
                Ok(r) if r.is_success() => {
                    status = r.str("status").unwrap_or("").to_owned();
                    interval = self.poll_after(&r).unwrap_or(interval);
                }
                Ok(r) if r.status == 403 => {
                    return Run::of(Fate::Failed(format!("poll 403 {}", r.code())))
                }
                // Told when to come back: not sooner.
                Ok(r) if r.retry_after.is_some() => {
                    interval = interval.max(r.retry_after.unwrap_or_default());
                }
                // 5xx, 429, no answer: poll again later.
                _ => {}
            }
        }
        if status != "ACTIVE" {
            return Run::of(Fate::Failed(format!("token {status} before admission")));
        }
        self.waits.lock().expect("lock").record(joined_at.elapsed());
        self.shop(user, &token).await
    }

    /// Admitted: seat map, hold, pay.
    async fn shop(&self, user: &User, token: &str) -> Run {
        let (concert_id, schedule_id) = (self.args.concert_id, self.args.schedule_id);
        let map = match honouring_retry_after(RETRY_BUDGET, || {
            self.api.seat_map(user, token, concert_id, schedule_id)
        })
        .await
        {
            Ok(r) if r.is_success() => r.into_ok("seat map").unwrap_or_default(),
            Ok(r) => return Run::of(Fate::Failed(format!("seat map {} {}", r.status, r.code()))),
            Err(_) => return Run::of(Fate::Failed("seat map: no answer".into())),
        };
        let mut available: Vec<i64> = seats_of(&map)
            .into_iter()
            .filter(|(_, s)| s == "AVAILABLE")
            .map(|(id, _)| id)
            .collect();
        let mut reservation = None;
        for _ in 0..self.args.hold_attempts {
            if available.is_empty() {
                break;
            }
            let pick = rand::thread_rng().gen_range(0..available.len());
            let seat_id = available.swap_remove(pick);
            // A 503 with Retry-After did nothing: the same seat is asked for again.
            let held = honouring_retry_after(RETRY_BUDGET, || {
                self.api.hold(user, token, schedule_id, seat_id)
            })
            .await;
            match held {
                Ok(r) if r.status == 201 => {
                    reservation = r.i64("reservationId").ok();
                    break;
                }
                Ok(r) if r.code() == "SEAT_UNAVAILABLE" => continue,
                Ok(r) => return Run::of(Fate::Failed(format!("hold {} {}", r.status, r.code()))),
                Err(_) => return Run::of(Fate::Failed("hold: no answer".into())),
            }
        }
        let Some(reservation_id) = reservation else {
            let tried_all = available.is_empty();
            return Run::of(if tried_all && self.args.hold_attempts > 0 {
                Fate::NoSeat
            } else {
                Fate::LostEveryHold
            });
        };
        let key = format!("pay-{}-{reservation_id}", user.login_id);
        match honouring_retry_after(RETRY_BUDGET, || {
            self.api.pay(user, token, reservation_id, &key)
        })
        .await
        {
            Ok(r) if r.status == 201 => {
                let sold = self.sold.fetch_add(1, Ordering::SeqCst) + 1;
                self.sold_at
                    .lock()
                    .expect("lock")
                    .push(self.started.elapsed());
                self.bar.set_position(sold);
                if sold == self.args.seats {
                    *self.sold_out_at.lock().expect("lock") = Some(self.started.elapsed());
                    // `send_replace`, not `send`: with nobody napping at
                    // that instant `send` stores nothing, and the buyers
                    // still joining went on to wait out the whole line.
                    self.stop.send_replace(true);
                }
                Run {
                    fate: Fate::Bought,
                    paid: true,
                    payment_unknown: false,
                }
            }
            Ok(r) => {
                // A polite client lets the seat go at once rather than leaving
                // it held until the hold lapses (reservation.hold_ttl_secs),
                // and comes back when told to: a cancel refused 503 left the
                // seat HELD for minutes.
                let _ =
                    honouring_retry_after(RETRY_BUDGET, || self.api.cancel(user, reservation_id))
                        .await;
                Run::of(Fate::Failed(format!("pay {} {}", r.status, r.code())))
            }
            Err(_) => Run {
                fate: Fate::Failed("pay: no answer".into()),
                paid: false,
                payment_unknown: true,
            },
        }
    }
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    if args.seats == 0 || args.seats > 2000 {
        bail!("--seats must be 1..=2000 (one schedule)");
    }
    let setup_started = Instant::now();
    let setup = ctx.api.phase();
    let charge = args.price * 2;
    let reused: Option<Vec<User>> = match &args.users_file {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path).context("--users-file")?;
            Some(serde_json::from_str(&text).context("--users-file")?)
        }
        _ => None,
    };
    let users = match reused {
        Some(users) => users,
        None => {
            let users = create_users(
                &setup,
                &format!("f{}u", ctx.tag),
                args.users,
                charge,
                ctx.setup_concurrency,
            )
            .await?;
            if let Some(path) = &args.users_file {
                std::fs::write(path, serde_json::to_string(&users)?).context("--users-file")?;
                say!(
                    "flash-sale: {} buyers written to {}; no sale in this run",
                    users.len(),
                    path.display()
                );
                return Ok(Outcome {
                    passed: true,
                    result: json!({"usersWritten": users.len()}),
                });
            }
            users
        }
    };
    let users = Arc::new(users);
    let concert = create_concert(
        &setup,
        ctx.admin_key()?,
        &format!("flash sale {}", ctx.tag),
        &[(args.seats, args.price)],
    )
    .await?;
    let setup_secs = setup_started.elapsed().as_secs_f64();
    say!(
        "flash-sale: {} users, {} seats at {} won, concert {} schedule {}; set-up took {:.1} s",
        users.len(),
        args.seats,
        args.price,
        concert.concert_id,
        concert.schedules[0].schedule_id,
        setup_secs
    );
    say!(
        "  reminder: the queue cap K is the server's queue.max_active_per_concert ({}); \
         scripts/bench.sh starts the server with K=500, active TTL 30 s, admit interval 200 ms",
        args.queue_cap
            .map_or("not given: pass --queue-cap to record it".to_owned(), |k| k
                .to_string())
    );

    // ---- timed phase ----
    let (stop, _) = watch::channel(false);
    let bar = progress(u64::from(args.seats), "sold");
    let sale = Arc::new(Sale {
        api: ctx.api.phase(),
        args: SaleArgs {
            concert_id: concert.concert_id,
            schedule_id: concert.schedules[0].schedule_id,
            seats: u64::from(args.seats),
            poll: Duration::from_millis(args.poll_ms),
            poll_max: Duration::from_millis(args.poll_max_ms.max(args.poll_ms)),
            follow_poll_after: !args.ignore_poll_after,
            hold_attempts: args.hold_attempts,
        },
        started: Instant::now(),
        sold: AtomicU64::new(0),
        sold_at: Mutex::new(Vec::new()),
        sold_out_at: Mutex::new(None),
        joins_answered: AtomicU64::new(0),
        last_join_at: Mutex::new(Duration::ZERO),
        waits: Mutex::new(Durations::default()),
        stop,
        bar: bar.clone(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..users.len() {
        let (sale, users) = (sale.clone(), users.clone());
        tasks.spawn(async move { (i, sale.buyer(&users[i]).await) });
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    let mut runs: HashMap<usize, Run> = HashMap::new();
    let mut timed_out = false;
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(joined)) => {
                let (i, run) = joined.context("buyer task")?;
                runs.insert(i, run);
            }
            Ok(None) => break,
            Err(_) => {
                timed_out = true;
                break;
            }
        }
    }
    if timed_out {
        // WAITING users stop at once; in-flight buyers get a grace period.
        sale.stop.send_replace(true);
        let grace = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Ok(Some(Ok((i, run)))) = tokio::time::timeout_at(grace, tasks.join_next()).await {
            runs.insert(i, run);
        }
        tasks.abort_all();
    }
    let elapsed = sale.started.elapsed();
    bar.finish_and_clear();
    let sold_out_at = *sale.sold_out_at.lock().expect("lock");
    let join_burst = *sale.last_join_at.lock().expect("lock");
    let mut sold_at = std::mem::take(&mut *sale.sold_at.lock().expect("lock"));
    sold_at.sort();
    // When the first 50%, 90%, 99% and 100% of the seats were sold.
    let milestones: Vec<(u64, Option<f64>)> = [50u64, 90, 99, 100]
        .into_iter()
        .map(|pct| {
            let n = (u64::from(args.seats) * pct).div_ceil(100).max(1) as usize;
            (pct, sold_at.get(n - 1).map(Duration::as_secs_f64))
        })
        .collect();

    let rows = sale.api.stats().report(elapsed);
    print_table("flash-sale, timed phase", elapsed, &rows);
    let mut fates: BTreeMap<String, u64> = BTreeMap::new();
    for run in runs.values() {
        *fates.entry(run.fate.label()).or_default() += 1;
    }
    let abandoned = users.len() - runs.len();
    if abandoned > 0 {
        fates.insert("abandoned at the timeout".into(), abandoned as u64);
    }
    let paid = runs.values().filter(|r| r.paid).count() as u64;
    match sold_out_at {
        Some(t) => say!(
            "  sold out: {} seats in {:.2} s",
            args.seats,
            t.as_secs_f64()
        ),
        None => say!(
            "  NOT sold out: {paid} of {} seats sold in {:.2} s{}",
            args.seats,
            elapsed.as_secs_f64(),
            if timed_out { " (timeout)" } else { "" }
        ),
    }
    say!(
        "  seats sold by: {}",
        milestones
            .iter()
            .map(|(k, v)| format!("{k}% {}", v.map_or("-".into(), |t| format!("{t:.2} s"))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    say!(
        "  all {} joins answered after {:.2} s",
        sale.joins_answered.load(Ordering::Relaxed),
        join_burst.as_secs_f64()
    );
    let waits = std::mem::take(&mut *sale.waits.lock().expect("lock"));
    say!(
        "  queue wait, join to ACTIVE ({} admitted): p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        waits.len(),
        waits.secs(0.5),
        waits.secs(0.95),
        waits.max_secs()
    );
    say!("  users by outcome:");
    for (fate, n) in &fates {
        say!("    {fate:<46} {n:>8}");
    }

    // ---- invariants, through the API (untimed) ----
    let check =
        super::flash_check::check_invariants(ctx, args, &concert, &users, &runs, charge).await?;
    let violations = check["violations"].as_u64().unwrap_or(u64::MAX);
    Ok(Outcome {
        result: json!({
            "users": users.len(),
            "seats": args.seats,
            "price": args.price,
            "queueCap": args.queue_cap,
            "setupSecs": setup_secs,
            "timedPhaseSecs": elapsed.as_secs_f64(),
            "soldOut": sold_out_at.is_some(),
            "timeToSellOutSecs": sold_out_at.map(|t| t.as_secs_f64()),
            "soldBy": milestones
                .iter()
                .map(|(pct, secs)| json!({"percent": pct, "secs": secs}))
                .collect::<Vec<_>>(),
            "paymentsAnswered201": paid,
            "joinBurstSecs": join_burst.as_secs_f64(),
            "timedOut": timed_out,
            "outcomes": fates,
            "queueWait": waits.summary(),
            "endpoints": rows,
            "invariants": check,
        }),
        passed: violations == 0,
    })
}
