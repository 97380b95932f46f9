//! Seat-map reads of one schedule at a fixed concurrency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::setup::{admit_all, create_concert, create_users};
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
    /// Seats in the schedule (1..=2000): the size of each answer.
    #[arg(long, default_value_t = 1000)]
    pub seats: u32,
    /// Distinct readers (admitted users); the workers take turns with them.
    #[arg(long, default_value_t = 8)]
    pub users: usize,
    /// The `Accept-Encoding` each read sends ("gzip", as browsers do; "identity"
    /// for the uncompressed JSON).
    #[arg(long, default_value = "gzip")]
    pub accept_encoding: String,
    /// Send the last answer's `ETag` as `If-None-Match` (a client that
    /// revalidates: 304 while the map is unchanged).
    #[arg(long)]
    pub revalidate: bool,
}

pub async fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<Outcome> {
    let setup = ctx.api.phase();
    let concert = create_concert(
        &setup,
        ctx.admin_key()?,
        &format!("seat-map {}", ctx.tag),
        &[(args.seats, 50_000)],
    )
    .await?;
    let schedule_id = concert.schedules[0].schedule_id;
    let users = create_users(
        &setup,
        &format!("m{}u", ctx.tag),
        args.users.max(1),
        0,
        ctx.setup_concurrency,
    )
    .await?;
    let tokens = admit_all(&setup, &users, concert.concert_id).await?;
    let readers = Arc::new(users.into_iter().zip(tokens).collect::<Vec<_>>());
    say!(
        "seat-map: {} seats, concurrency {} for {} s ({} readers)",
        args.seats,
        args.concurrency,
        args.duration_secs,
        readers.len()
    );

    let api = ctx.api.phase();
    let worker_api = api.clone();
    let concert_id = concert.concert_id;
    let encoding: Arc<str> = args.accept_encoding.as_str().into();
    let revalidate = args.revalidate;
    // The last ETag seen, shared by the workers (the map is the same for all).
    let etag: Arc<Mutex<Option<String>>> = Arc::default();
    let elapsed = super::closed_loop(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        move |w, _| {
            let (api, readers) = (worker_api.clone(), readers.clone());
            let (encoding, etag) = (encoding.clone(), etag.clone());
            async move {
                let (user, token) = &readers[w % readers.len()];
                let known = revalidate
                    .then(|| etag.lock().expect("etag").clone())
                    .flatten();
                let mut headers = vec![("Accept-Encoding", &*encoding)];
                if let Some(tag) = &known {
                    headers.push(("If-None-Match", tag.as_str()));
                }
                let reply = api
                    .seat_map_with(user, token, concert_id, schedule_id, &headers)
                    .await;
                if let (true, Ok(reply)) = (revalidate, reply) {
                    if let Some(tag) = reply.etag {
                        *etag.lock().expect("etag") = Some(tag);
                    }
                }
            }
        },
    )
    .await;
    let rows = api.stats().report(elapsed);
    print_table("seat-map", elapsed, &rows);
    let errors: u64 = rows.iter().map(|r| r.requests - r.ok).sum();
    Ok(Outcome {
        result: json!({
            "concurrency": args.concurrency,
            "seats": args.seats,
            "acceptEncoding": args.accept_encoding,
            "revalidate": args.revalidate,
            "elapsedSecs": elapsed.as_secs_f64(),
            "endpoints": rows,
        }),
        passed: errors == 0,
    })
}
