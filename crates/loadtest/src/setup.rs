//! Untimed set-up shared by the scenarios: users, concerts, admitted tokens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{SecondsFormat, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use serde_json::{json, Value};

use crate::client::{Api, CallResult, User};

pub const PASSWORD: &str = "loadtest-password";

static SHOW_PROGRESS: AtomicBool = AtomicBool::new(true);

pub fn set_progress(show: bool) {
    SHOW_PROGRESS.store(show, Ordering::Relaxed);
}

/// A progress bar on stderr (hidden with `--no-progress` or when stderr is not a terminal).
pub fn progress(len: u64, message: &str) -> ProgressBar {
    if !SHOW_PROGRESS.load(Ordering::Relaxed) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>14} [{elapsed_precise}] {bar:40} {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A short random tag that keeps login ids of separate runs apart.
pub fn run_tag() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Retries a call on transport errors and 5xx answers (set-up only).
pub async fn retrying<F, Fut>(mut call: F) -> CallResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = CallResult>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = call().await;
        let retry = match &result {
            Err(_) => true,
            Ok(reply) => reply.status >= 500,
        };
        if !retry || attempt >= 4 {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
    }
}

/// Signs up, logs in and (if `charge > 0`) charges one user.
pub async fn create_user(api: &Api, login_id: String, charge: i64) -> anyhow::Result<User> {
    let signed = retrying(|| api.sign_up(&login_id, PASSWORD)).await?;
    // 409 LOGIN_ID_TAKEN after a retry means the first attempt went through.
    if !signed.is_success() && signed.code() != "LOGIN_ID_TAKEN" {
        bail!(
            "sign-up of {login_id}: HTTP {} {}",
            signed.status,
            signed.body()
        );
    }
    let login = retrying(|| api.log_in(&login_id, PASSWORD))
        .await?
        .into_ok("log-in")?;
    let mut user = User {
        user_id: login["userId"].as_i64().context("log-in: no userId")?,
        access: login["accessToken"]
            .as_str()
            .context("log-in: no accessToken")?
            .to_owned(),
        login_id,
        charged: 0,
    };
    if charge > 0 {
        let key = format!("setup-charge-{}", user.login_id);
        retrying(|| api.charge(&user, charge, &key))
            .await?
            .into_ok("charge")?;
        user.charged = charge;
    }
    Ok(user)
}

/// Creates `n` users `{prefix}{i}`, `concurrency` at a time (each costs the
/// server two Argon2 hashes). Returns them in index order; fails if more than
/// 1% could not be created.
pub async fn create_users(
    api: &Api,
    prefix: &str,
    n: usize,
    charge: i64,
    concurrency: usize,
) -> anyhow::Result<Vec<User>> {
    let started = Instant::now();
    let bar = progress(n as u64, "users");
    let mut results: Vec<(usize, anyhow::Result<User>)> = futures::stream::iter(0..n)
        .map(|i| {
            let (api, bar) = (api.clone(), bar.clone());
            let login_id = format!("{prefix}{i}");
            async move {
                let result = create_user(&api, login_id, charge).await;
                bar.inc(1);
                (i, result)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    let mut users = Vec::with_capacity(n);
    let mut failures = Vec::new();
    for (_, r) in results {
        match r {
            Ok(u) => users.push(u),
            Err(e) => failures.push(e),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "set-up: {} users signed up, logged in{} in {:.1} s ({:.1} users/s, {} failed)",
        users.len(),
        if charge > 0 { " and charged" } else { "" },
        secs,
        users.len() as f64 / secs.max(1e-9),
        failures.len()
    );
    if let Some(first) = failures.first() {
        eprintln!("set-up: first failure: {first:#}");
        if failures.len() * 100 > n {
            bail!("{} of {n} users could not be created", failures.len());
        }
    }
    Ok(users)
}

#[derive(Debug, Clone)]
pub struct ScheduleInfo {
    pub schedule_id: i64,
}

#[derive(Debug, Clone)]
pub struct Concert {
    pub concert_id: i64,
    pub schedules: Vec<ScheduleInfo>,
}

/// Creates a concert through the admin endpoint, one schedule per `(seats, price)`,
/// starting in 30 days.
pub async fn create_concert(
    api: &Api,
    admin_key: &str,
    title: &str,
    schedules: &[(u32, i64)],
) -> anyhow::Result<Concert> {
    let starts = Utc::now() + chrono::Duration::days(30);
    let body = json!({
        "title": title,
        "venue": "Load Test Hall",
        "schedules": schedules.iter().enumerate().map(|(i, (seats, price))| json!({
            "startsAt": (starts + chrono::Duration::hours(i as i64))
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            "seatCount": seats,
            "price": price,
        })).collect::<Vec<_>>(),
    });
    let created = api
        .create_concert(admin_key, &body)
        .await?
        .into_ok("create concert (is --admin-key right?)")?;
    let concert_id = created["concertId"].as_i64().context("no concertId")?;
    let schedules = created["schedules"]
        .as_array()
        .context("no schedules")?
        .iter()
        .map(|s| {
            Ok(ScheduleInfo {
                schedule_id: s["scheduleId"].as_i64().context("no scheduleId")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Concert {
        concert_id,
        schedules,
    })
}

/// Joins the concert's queue and waits until the token is ACTIVE.
pub async fn join_until_active(
    api: &Api,
    user: &User,
    concert_id: i64,
    timeout: Duration,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + timeout;
    let joined = retrying(|| api.join_queue(user, concert_id))
        .await?
        .into_ok("join queue")?;
    let token = joined["token"].as_str().context("no token")?.to_owned();
    let mut status = joined["status"].as_str().unwrap_or("").to_owned();
    while status != "ACTIVE" {
        if status == "EXPIRED" || Instant::now() > deadline {
            bail!(
                "queue token of {} is {status} after {timeout:?}: is queue.max_active_per_concert \
                 large enough for this scenario?",
                user.login_id
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let current = api
            .current_token(user, &token)
            .await?
            .into_ok("poll token")?;
        status = current["status"].as_str().unwrap_or("").to_owned();
    }
    Ok(token)
}

/// Admits every user (concurrently, 16 at a time); returns their tokens in order.
pub async fn admit_all(api: &Api, users: &[User], concert_id: i64) -> anyhow::Result<Vec<String>> {
    let mut tokens: Vec<(usize, anyhow::Result<String>)> =
        futures::stream::iter(users.iter().enumerate())
            .map(|(i, u)| async move {
                (
                    i,
                    join_until_active(api, u, concert_id, Duration::from_secs(60)).await,
                )
            })
            .buffer_unordered(16)
            .collect()
            .await;
    tokens.sort_by_key(|(i, _)| *i);
    tokens.into_iter().map(|(_, t)| t).collect()
}

/// `(seatId, status)` of every seat of the schedule, by seat number.
pub fn seats_of(seat_map: &Value) -> Vec<(i64, String)> {
    seat_map["seats"]
        .as_array()
        .map(|seats| {
            seats
                .iter()
                .filter_map(|s| {
                    Some((
                        s["seatId"].as_i64()?,
                        s["status"].as_str().unwrap_or("").to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a schedule's seat ids with an admitted user's token.
pub async fn seat_ids(
    api: &Api,
    user: &User,
    token: &str,
    concert_id: i64,
    schedule_id: i64,
) -> anyhow::Result<Vec<i64>> {
    let map = api
        .seat_map(user, token, concert_id, schedule_id)
        .await?
        .into_ok("seat map")?;
    Ok(seats_of(&map).into_iter().map(|(id, _)| id).collect())
}
