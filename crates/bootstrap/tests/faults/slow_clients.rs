//! Many connections trickling a partial request head or a partial body: each
//! gets 408 (problem+json) and its connection closed, and meanwhile other
//! clients' payments and charges go through in time; the money invariants
//! hold afterwards.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::invariants::{self, Outcome};
use crate::server::{client, try_answer, Db, Server};

/// Connections of each kind (partial head, partial body).
const SLOW: usize = 100;
const USERS: usize = 8;
const PRICE: i64 = 1_000;
const BODY_TIMEOUT_MS: u64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_get_408_and_block_nobody_sqlite() {
    slow_clients(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_get_408_and_block_nobody_postgres() {
    slow_clients(Db::Postgres).await;
}

/// Opens a connection, sends `start`, then one more byte of `trickle` every
/// 200 ms until the server answers; returns the answer's status and body.
async fn trickle(port: u16, start: String, trickle: u8) -> (u16, String, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(start.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(&[trickle]).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), read.read_to_end(&mut answer)).await;
    writer.abort();
    assert!(read.is_ok(), "a slow client was never answered nor closed");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body, started.elapsed())
}

async fn slow_clients(db: Db) {
    let Some(url) = db.fresh().await else { return };
    let timeout = BODY_TIMEOUT_MS.to_string();
    let server = Server::start(
        &url,
        &[
            ("APP__SERVER__BODY_TIMEOUT_MS", timeout.as_str()),
            ("APP__QUEUE__ACTIVE_TTL_SECS", "3600"),
            ("APP__RESERVATION__HOLD_TTL_SECS", "3600"),
        ],
    )
    .await;
    let a = server.address.clone();
    let port: u16 = a.rsplit(':').next().unwrap().parse().unwrap();
    let users = invariants::users(&a, "slow", USERS).await;
    let sale = invariants::concert(&a, USERS, PRICE).await;
    let http = client();
    let mut outcomes = Vec::new();
    let mut held = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let (status, body) = try_answer(
            http.post(format!("{a}/api/v1/users/{}/points/charge", user.id))
                .bearer_auth(&user.token)
                .json(&json!({ "amount": PRICE })),
        )
        .await
        .unwrap();
        outcomes.push(Outcome {
            user: u,
            kind: "CHARGE",
            amount: PRICE,
            status,
            body,
        });
        let queue_token = invariants::admit(&a, user, sale.0).await;
        let reservation_id = invariants::hold(&a, user, &queue_token, sale, u).await;
        held.push((queue_token, reservation_id));
    }

    // The slow crowd: half stall in the head, half in the body.
    let mut slow = Vec::new();
    for i in 0..SLOW {
        let head = format!(
            "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow-{i}: "
        );
        slow.push(tokio::spawn(trickle(port, head, b'a')));
        let body = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n{\"loginId\": \"";
        slow.push(tokio::spawn(trickle(port, body.to_owned(), b'a')));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Everyone else pays and charges meanwhile, in time.
    let mut paying = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let (queue_token, reservation_id) = held[u].clone();
        let (http, a, token, id) = (http.clone(), a.clone(), user.token.clone(), user.id);
        paying.push(tokio::spawn(async move {
            let started = Instant::now();
            let (status, body) = try_answer(
                http.post(format!("{a}/api/v1/payments"))
                    .bearer_auth(&token)
                    .header("X-Queue-Token", &queue_token)
                    .json(&json!({ "reservationId": reservation_id })),
            )
            .await
            .unwrap();
            let paid = (started.elapsed(), status, body);
            let (status, body) = try_answer(
                http.post(format!("{a}/api/v1/users/{id}/points/charge"))
                    .bearer_auth(&token)
                    .json(&json!({ "amount": 7 + u as i64 })),
            )
            .await
            .unwrap();
            (paid, status, body)
        }));
    }
    for (u, task) in paying.into_iter().enumerate() {
        let ((waited, status, body), charge_status, charge_body) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(
            waited < Duration::from_millis(BODY_TIMEOUT_MS),
            "a payment waited {waited:?} behind the slow clients"
        );
        outcomes.push(Outcome {
            user: u,
            kind: "PAYMENT",
            amount: -PRICE,
            status,
            body,
        });
        assert_eq!(charge_status, StatusCode::OK, "{charge_body}");
        outcomes.push(Outcome {
            user: u,
            kind: "CHARGE",
            amount: 7 + u as i64,
            status: charge_status,
            body: charge_body,
        });
    }

    for task in slow {
        let (status, body, waited) = task.await.unwrap();
        assert_eq!(status, 408, "{body}");
        let problem: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("408 without a problem body ({e}): {body:?}"));
        assert_eq!(problem["status"], 408, "{body}");
        assert_eq!(problem["code"], "REQUEST_TIMEOUT", "{body}");
        assert!(waited < Duration::from_secs(15), "408 after {waited:?}");
    }
    invariants::check(&a, &url, &users, &outcomes).await;
}
