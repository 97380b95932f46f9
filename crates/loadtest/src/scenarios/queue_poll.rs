//! Queue position reads while a long line waits in front of the pollers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};

use crate::client::User;
use crate::setup::{create_concert, create_users};
use crate::stats::print_table;
use crate::{say, Ctx, Outcome};

#[derive(clap::Args, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// WAITING tokens placed in line before the pollers.
    #[arg(long, default_value_t = 100_000)]
    pub waiting: u64,
    /// The server's PostgreSQL database: the line is inserted there with SQL
    /// (fast). Without it, the line is made of HTTP users (two Argon2 hashes each: slow).
    #[arg(long, env = "LOADTEST_DATABASE_URL")]
    #[serde(skip)]
    pub database_url: Option<String>,
    /// The server's Redis, when its queue lives there (`APP__QUEUE__BACKEND=redis`):
    /// the line is written there directly (fast), as the server's scripts would.
    #[arg(long, env = "LOADTEST_REDIS_URL")]
    #[serde(skip)]
    pub redis_url: Option<String>,
    /// The server's `APP__REDIS__KEY_PREFIX`.
    #[arg(long, default_value = "concert:")]
    pub redis_prefix: String,
    /// Real users who join after the line and whose tokens are polled.
    #[arg(long, default_value_t = 16)]
    pub users: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
}

/// Appends `n` WAITING tokens to the concert's line in Redis, with the keys
/// the server's issue script writes (see adapters-redis keys.rs): sequence
/// numbers from `issued`, the waiting sorted set, one hash per token.
async fn insert_line_redis(
    url: &str,
    prefix: &str,
    concert_id: i64,
    tag: &str,
    n: u64,
) -> anyhow::Result<()> {
    let client = redis::Client::open(url).context("--redis-url")?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    // The concert's keys carry its hash tag; a token names its concert.
    let queue = format!("{prefix}queue:{{{concert_id}}}:");
    let last: i64 = redis::cmd("INCRBY")
        .arg(format!("{queue}issued"))
        .arg(n)
        .query_async(&mut conn)
        .await?;
    let first = last - n as i64 + 1;
    for chunk_start in (first..=last).step_by(2_000) {
        let mut pipe = redis::pipe();
        for seq in chunk_start..=(chunk_start + 1_999).min(last) {
            let token = format!("{concert_id}.loadtest-{tag}-{seq}");
            pipe.cmd("ZADD")
                .arg(format!("{queue}waiting"))
                .arg(seq)
                .arg(&token)
                .ignore();
            pipe.cmd("HSET")
                .arg(format!("{queue}token:{token}"))
                .arg(&[
                    "u",
                    &(1_000_000_000 + seq).to_string(),
                    "c",
                    &concert_id.to_string(),
                ])
                .arg(&["s", &seq.to_string(), "st", "WAITING", "x", ""])
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
    }
    redis::cmd("SADD")
        .arg(format!("{prefix}queues"))
        .arg(concert_id)
        .query_async::<()>(&mut conn)
        .await?;
    Ok(())
}

/// Inserts `n` users and their WAITING tokens at the end of the concert's line,
/// exactly as the server's queue store would have (see adapters-db queue_store.rs):
/// seq continues `issued_seq`, and `issued_seq` moves on by `n`.
async fn insert_line(url: &str, concert_id: i64, tag: &str, n: u64) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to --database-url")?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut tx = conn.begin().await?;
    // The same lock the server takes before issuing a token.
    let row = sqlx::query(
        "UPDATE queue_states SET version = version + 1 WHERE concert_id = $1 RETURNING issued_seq",
    )
    .bind(concert_id)
    .fetch_one(&mut *tx)
    .await
    .context("no queue_states row for the concert")?;
    let issued: i64 = row.try_get(0)?;
    sqlx::query(
        "WITH new_users AS ( \
           INSERT INTO users (login_id, password_hash, created_at_ms) \
           SELECT $1 || g, 'not-a-password-hash', $2 FROM generate_series(1, $3::bigint) g \
           RETURNING id) \
         INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms) \
         SELECT $4 || (row_number() OVER (ORDER BY id)), id, $5, \
                $6 + row_number() OVER (ORDER BY id), 'WAITING', $2, NULL \
         FROM new_users",
    )
    .bind(format!("q{tag}w"))
    .bind(now_ms)
    .bind(n as i64)
    .bind(format!("loadtest-{tag}-"))
    .bind(concert_id)
    .bind(issued)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE queue_states SET issued_seq = issued_seq + $2 WHERE concert_id = $1")
        .bind(concert_id)
        .bind(n as i64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    let setup = ctx.api.phase();
    let concert = create_concert(
        &setup,
        ctx.admin_key()?,
        &format!("queue-poll {}", ctx.tag),
        &[(10, 50_000)],
    )
    .await?;
    let concert_id = concert.concert_id;
    let started = Instant::now();
    match (&args.redis_url, &args.database_url) {
        (Some(url), _) => {
            insert_line_redis(url, &args.redis_prefix, concert_id, &ctx.tag, args.waiting).await?
        }
        (None, Some(url)) => insert_line(url, concert_id, &ctx.tag, args.waiting).await?,
        (None, None) if args.waiting > 0 => {
            say!("queue-poll: no --database-url: the line is made over HTTP (slow)");
            let line = create_users(
                &setup,
                &format!("q{}w", ctx.tag),
                args.waiting as usize,
                0,
                ctx.setup_concurrency,
            )
            .await?;
            for u in &line {
                setup.join_queue(u, concert_id).await?.into_ok("join")?;
            }
        }
        (None, None) => {}
    }
    say!(
        "queue-poll: {} WAITING tokens placed in line in {:.1} s",
        args.waiting,
        started.elapsed().as_secs_f64()
    );
    let users = create_users(
        &setup,
        &format!("p{}u", ctx.tag),
        args.users.max(1),
        0,
        ctx.setup_concurrency,
    )
    .await?;
    let mut pollers: Vec<(User, String)> = Vec::new();
    for u in users {
        let joined = setup.join_queue(&u, concert_id).await?.into_ok("join")?;
        let token = joined["token"].as_str().context("no token")?.to_owned();
        say!(
            "  {} joined: {} at position {}",
            u.login_id,
            joined["status"].as_str().unwrap_or("?"),
            joined["position"]
        );
        pollers.push((u, token));
    }
    let pollers = Arc::new(pollers);
    let not_waiting = Arc::new(AtomicU64::new(0));
    let max_position = Arc::new(AtomicU64::new(0));

    let api = ctx.api.phase();
    let (worker_api, nw, mp, ps) = (
        api.clone(),
        not_waiting.clone(),
        max_position.clone(),
        pollers.clone(),
    );
    let elapsed = super::closed_loop(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        move |_, n| {
            let (api, nw, mp, ps) = (worker_api.clone(), nw.clone(), mp.clone(), ps.clone());
            async move {
                let (user, token) = &ps[n as usize % ps.len()];
                if let Ok(r) = api.current_token(user, token).await {
                    if r.body()["status"].as_str() == Some("WAITING") {
                        let pos = r.body()["position"].as_u64().unwrap_or(0);
                        mp.fetch_max(pos, Ordering::Relaxed);
                    } else if r.is_success() {
                        nw.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        },
    )
    .await;
    let rows = api.stats().report(elapsed);
    print_table("queue-poll", elapsed, &rows);
    let not_waiting = not_waiting.load(Ordering::Relaxed);
    say!(
        "  largest position seen: {}; answers not WAITING: {not_waiting}",
        max_position.load(Ordering::Relaxed)
    );
    let errors: u64 = rows.iter().map(|r| r.requests - r.ok).sum();
    Ok(Outcome {
        result: json!({
            "waiting": args.waiting,
            "concurrency": args.concurrency,
            "elapsedSecs": elapsed.as_secs_f64(),
            "maxPositionSeen": max_position.load(Ordering::Relaxed),
            "answersNotWaiting": not_waiting,
            "endpoints": rows,
        }),
        passed: errors == 0,
    })
}
