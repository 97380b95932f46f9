//! The queue's Redis stopped (SIGKILL) in the middle of a sale, then started
//! again empty: while it is down the queue endpoints and queue-guarded
//! payments answer 503 with `Retry-After` quickly and move no money, charges
//! go on; after the restart the service heals by itself (users re-join) and
//! the money invariants hold.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::invariants::{self, Outcome, User};
use crate::server::{client, try_answer, Db, Server};

const USERS: usize = 6;
const PRICE: i64 = 1_000;

/// A private `redis-server` on its own port, without persistence.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// `None` (skipped) without `redis-server` outside CI.
    fn start(port: u16) -> Option<Redis> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but redis-server cannot start: {e}"
                );
                eprintln!("skipped: redis-server not available ({e})");
                return None;
            }
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Redis { child, port })
    }

    fn kill(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_sale_sqlite() {
    redis_stopped_mid_sale(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_sale_postgres() {
    redis_stopped_mid_sale(Db::Postgres).await;
}

async fn redis_stopped_mid_sale(db: Db) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(mut redis) = Redis::start(port) else {
        return;
    };
    let Some(url) = db.fresh().await else { return };
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let server = Server::start(
        &url,
        &[
            ("APP__QUEUE__BACKEND", "redis"),
            ("APP__REDIS__URL", redis_url.as_str()),
            ("APP__QUEUE__ACTIVE_TTL_SECS", "3600"),
            ("APP__RESERVATION__HOLD_TTL_SECS", "3600"),
        ],
    )
    .await;
    let a = server.address.clone();
    let http = client();
    let users = invariants::users(&a, "redis", USERS).await;
    let sale = invariants::concert(&a, USERS, PRICE).await;
    let later = invariants::concert(&a, USERS, PRICE).await;
    let mut outcomes = Vec::new();
    let charge = |u: usize, user: &User, amount: i64, key: String| {
        let request = http
            .post(format!("{a}/api/v1/users/{}/points/charge", user.id))
            .bearer_auth(&user.token)
            .header("Idempotency-Key", key)
            .json(&json!({ "amount": amount }));
        async move {
            let (status, body) = try_answer(request).await.unwrap();
            Outcome {
                user: u,
                kind: "CHARGE",
                amount,
                status,
                body,
            }
        }
    };
    let pay = |u: usize, user: &User, queue_token: &str, reservation_id: i64| {
        let request = http
            .post(format!("{a}/api/v1/payments"))
            .bearer_auth(&user.token)
            .header("X-Queue-Token", queue_token)
            .header("Idempotency-Key", format!("pay-{u}"))
            .json(&json!({ "reservationId": reservation_id }));
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let (status, waited) = (response.status(), started.elapsed());
            let retry_after = response.headers().get("retry-after").cloned();
            let body = response.json().await.unwrap();
            (
                Outcome {
                    user: u,
                    kind: "PAYMENT",
                    amount: -PRICE,
                    status,
                    body,
                },
                retry_after,
                waited,
            )
        }
    };

    // Every user in line, admitted, holding a seat, with the points for it;
    // half of them pay before the outage.
    let mut reservations = Vec::new();
    for (u, user) in users.iter().enumerate() {
        outcomes.push(charge(u, user, PRICE, format!("setup-{u}")).await);
        let queue_token = invariants::admit(&a, user, sale.0).await;
        let reservation_id = invariants::hold(&a, user, &queue_token, sale, u).await;
        if u < USERS / 2 {
            let (paid, _, _) = pay(u, user, &queue_token, reservation_id).await;
            assert_eq!(paid.status, StatusCode::CREATED, "{paid:?}");
            outcomes.push(paid);
        }
        reservations.push((queue_token, reservation_id));
    }

    redis.kill();
    let expect_503 = |what: &str,
                      status: StatusCode,
                      retry_after: Option<&reqwest::header::HeaderValue>,
                      waited: Duration| {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(retry_after.is_some(), "{what}: 503 without Retry-After");
        assert!(
            waited < Duration::from_secs(5),
            "{what}: answered after {waited:?}"
        );
    };
    for (u, user) in users.iter().enumerate() {
        let started = Instant::now();
        let joined = http
            .post(format!("{a}/api/v1/concerts/{}/queue/tokens", later.0))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        expect_503(
            "join",
            joined.status(),
            joined.headers().get("retry-after"),
            started.elapsed(),
        );
        let problem: serde_json::Value = joined.json().await.unwrap();
        assert_eq!(problem["code"], "SERVICE_UNAVAILABLE");
        let started = Instant::now();
        let polled = http
            .get(format!("{a}/api/v1/queue/tokens/current"))
            .bearer_auth(&user.token)
            .header("X-Queue-Token", &reservations[u].0)
            .send()
            .await
            .unwrap();
        expect_503(
            "poll",
            polled.status(),
            polled.headers().get("retry-after"),
            started.elapsed(),
        );
        if u >= USERS / 2 {
            let (queue_token, reservation_id) = &reservations[u];
            let (outcome, retry_after, waited) = pay(u, user, queue_token, *reservation_id).await;
            expect_503("payment", outcome.status, retry_after.as_ref(), waited);
        }
        // What needs no Redis goes on.
        let charged = charge(u, user, 10 + u as i64, format!("outage-{u}")).await;
        assert_eq!(charged.status, StatusCode::OK, "{charged:?}");
        outcomes.push(charged);
    }
    let ready = http.get(format!("{a}/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Redis back, empty (no persistence): the lines are gone, users re-join
    // and pay the seats they still hold, with the keys they used before.
    let _redis = Redis::start(port).expect("redis-server restarts");
    let started = Instant::now();
    loop {
        let ready = http.get(format!("{a}/health/ready")).send().await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (u, user) in users.iter().enumerate().skip(USERS / 2) {
        let queue_token = invariants::admit(&a, user, sale.0).await;
        let (outcome, _, _) = pay(u, user, &queue_token, reservations[u].1).await;
        assert_eq!(outcome.status, StatusCode::CREATED, "{outcome:?}");
        outcomes.push(outcome);
    }
    invariants::check(&a, &url, &users, &outcomes).await;
}
