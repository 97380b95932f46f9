//! The database link frozen and cut under a running server (PostgreSQL
//! through a proxy the test controls): every request answers 503 with
//! `Retry-After` within the deadline, the service heals by itself, and the
//! money is exact afterwards.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::proxy::LinkProxy;
use crate::server::{client, try_answer, Db, Server};

const REQUEST_TIMEOUT_MS: u64 = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_or_cut_database_link_answers_503_in_time_and_heals() {
    let Some(direct) = Db::Postgres.fresh().await else {
        return;
    };
    let mut url = url::Url::parse(&direct).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = LinkProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let timeout = REQUEST_TIMEOUT_MS.to_string();
    let server = Server::start(
        url.as_str(),
        &[
            ("APP__SERVER__REQUEST_TIMEOUT_MS", timeout.as_str()),
            ("APP__DATABASE__STATEMENT_TIMEOUT_MS", "1000"),
            ("APP__DATABASE__ACQUIRE_TIMEOUT_MS", "1000"),
            ("APP__IDEMPOTENCY__TAKEOVER_AFTER_SECS", "1"),
        ],
    )
    .await;
    let http = client();
    let a = server.address.clone();
    let login = json!({"loginId": "linked", "password": "password-123"});
    try_answer(http.post(format!("{a}/api/v1/users")).json(&login))
        .await
        .unwrap();
    let (_, session) = try_answer(http.post(format!("{a}/api/v1/auth/token")).json(&login))
        .await
        .unwrap();
    let (id, token) = (
        session["userId"].as_i64().unwrap(),
        session["accessToken"].as_str().unwrap().to_owned(),
    );
    let charge = |amount: i64, key: String| {
        http.post(format!("{a}/api/v1/users/{id}/points/charge"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&json!({ "amount": amount }))
    };
    assert_eq!(
        try_answer(charge(1, "before".into())).await.unwrap().0,
        StatusCode::OK
    );

    let mut keys = vec![("before".to_owned(), 1)];
    for (fault, round) in [("freeze", 0), ("cut", 1)] {
        match fault {
            "freeze" => proxy.freeze(),
            _ => proxy.cut(),
        }
        for i in 0..3 {
            let (key, amount) = (format!("{fault}-{i}"), 10 * (round * 3 + i + 1));
            keys.push((key.clone(), amount));
            let started = Instant::now();
            let response = charge(amount, key).send().await.unwrap();
            let waited = started.elapsed();
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{fault}"
            );
            assert_eq!(response.headers()["retry-after"], "1", "{fault}");
            assert!(
                waited < Duration::from_millis(REQUEST_TIMEOUT_MS + 2000),
                "{fault}: answered after {waited:?}"
            );
        }
        proxy.heal();
        // Heals without a restart.
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{a}/health/ready")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{fault}: no recovery"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Every key, retried until it has its answer: each charge lands once.
    let mut answers: Vec<(i64, Value)> = Vec::new();
    for (key, amount) in &keys {
        let started = Instant::now();
        loop {
            let (status, body) = try_answer(charge(*amount, key.clone())).await.unwrap();
            if status == StatusCode::OK {
                answers.push((*amount, body));
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{key}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let (_, history) = try_answer(
        http.get(format!("{a}/api/v1/users/{id}/points/history"))
            .bearer_auth(&token),
    )
    .await
    .unwrap();
    let entries = history["entries"].as_array().unwrap();
    let (_, balance) = try_answer(
        http.get(format!("{a}/api/v1/users/{id}/points"))
            .bearer_auth(&token),
    )
    .await
    .unwrap();
    let sum: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
    assert_eq!(
        balance["balance"].as_i64(),
        Some(sum),
        "balance = sum of history"
    );
    for (amount, body) in &answers {
        let landed: Vec<&Value> = entries.iter().filter(|e| e["amount"] == *amount).collect();
        assert_eq!(landed.len(), 1, "charge of {amount} landed once");
        assert_eq!(body["balance"], landed[0]["balanceAfter"]);
    }
    assert_eq!(entries.len(), keys.len());
}
