//! Memory stays bounded under a sign-up and login storm: Argon2 hashes in
//! flight are capped and their 19 MiB work areas reused.

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

use crate::server::{client, try_answer, Db, Server};

const USERS: usize = 1000;
const CONCURRENCY: usize = 50;
const PEAK_RSS_LIMIT_MIB: u64 = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sign_ups_and_logins_stay_under_250_mib() {
    let url = Db::Sqlite.fresh().await.expect("SQLite needs nothing");
    let server = Server::start(&url, &[]).await;
    let idle = server.peak_rss_kib();
    let http = client();
    let address = server.address.clone();
    let statuses: Vec<(StatusCode, StatusCode)> = futures::stream::iter(0..USERS)
        .map(|i| {
            let (http, address) = (http.clone(), address.clone());
            async move {
                let body = json!({"loginId": format!("rss{i:05}"), "password": "password-123"});
                let (signed_up, _) =
                    try_answer(http.post(format!("{address}/api/v1/users")).json(&body))
                        .await
                        .expect("sign-up answered");
                let (logged_in, _) = try_answer(
                    http.post(format!("{address}/api/v1/auth/token"))
                        .json(&body),
                )
                .await
                .expect("login answered");
                (signed_up, logged_in)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == (StatusCode::CREATED, StatusCode::OK)),
        "every sign-up and login succeeded"
    );
    let peak = server.peak_rss_kib();
    eprintln!(
        "peak RSS: {} MiB idle, {} MiB after {USERS} sign-ups and logins",
        idle / 1024,
        peak / 1024
    );
    assert!(
        peak < PEAK_RSS_LIMIT_MIB * 1024,
        "peak RSS {} MiB is over {PEAK_RSS_LIMIT_MIB} MiB",
        peak / 1024
    );
}
