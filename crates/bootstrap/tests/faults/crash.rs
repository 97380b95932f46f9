//! SIGKILL during charges and payments with `Idempotency-Key`, many times:
//! after restarts and same-key retries, every request's final answer is 2xx
//! exactly when its money moved, and it moved once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};

use crate::server::{client, try_answer, Db, Server, ADMIN_KEY};

const USERS: usize = 16;
const ROUNDS: usize = 12;
const CHARGES_PER_ROUND: usize = 2;
const PRICE: i64 = 10_000;
/// Short, so that retries take abandoned claims over within the test (and
/// sometimes claims of runs that are merely slow: the fence must hold then).
const TAKEOVER_SECS: &str = "2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_money_sqlite() {
    kill_9_during_money(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_money_postgres() {
    kill_9_during_money(Db::Postgres).await;
}

#[derive(Clone)]
struct User {
    id: i64,
    token: String,
    queue_token: String,
    reservation_id: i64,
}

#[derive(Clone, Debug)]
enum Kind {
    Charge(i64),
    Pay(i64),
}

#[derive(Clone, Debug)]
struct Op {
    user: usize,
    key: String,
    kind: Kind,
    /// The last definite answer (anything but in-flight, 503 or a cut link).
    answer: Option<(StatusCode, Value)>,
}

impl Op {
    fn request(
        &self,
        http: &reqwest::Client,
        address: &str,
        user: &User,
    ) -> reqwest::RequestBuilder {
        let request = match self.kind {
            Kind::Charge(amount) => http
                .post(format!("{address}/api/v1/users/{}/points/charge", user.id))
                .json(&json!({ "amount": amount })),
            Kind::Pay(reservation_id) => http
                .post(format!("{address}/api/v1/payments"))
                .header("X-Queue-Token", &user.queue_token)
                .json(&json!({ "reservationId": reservation_id })),
        };
        request
            .bearer_auth(&user.token)
            .header("Idempotency-Key", &self.key)
    }
}

fn settings() -> Vec<(&'static str, &'static str)> {
    vec![
        ("APP__IDEMPOTENCY__TAKEOVER_AFTER_SECS", TAKEOVER_SECS),
        ("APP__RESERVATION__HOLD_TTL_SECS", "3600"),
        ("APP__QUEUE__ACTIVE_TTL_SECS", "3600"),
        ("APP__QUEUE__MAX_ACTIVE_PER_CONCERT", "1000"),
    ]
}

/// A definite answer is kept; a cut link, 503 or a claim still in flight
/// means the client does not know yet and must retry with the same key.
fn definite(answer: &Option<(StatusCode, Value)>) -> bool {
    match answer {
        None => false,
        Some((status, body)) => {
            *status != StatusCode::SERVICE_UNAVAILABLE
                && body["code"] != "IDEMPOTENCY_KEY_IN_FLIGHT"
                && body["code"] != "CONCURRENT_MODIFICATION"
        }
    }
}

/// Sends every op that has no definite answer yet, concurrently; with
/// `kill_at`, SIGKILLs the server once that many answers came back (so the
/// kill lands while the rest are in flight). Returns how many the kill cut.
async fn fire(server: Server, ops: &mut [Op], users: &[User], kill_at: Option<usize>) -> usize {
    let http = client();
    let answered = Arc::new(AtomicUsize::new(0));
    let pending: Vec<usize> = (0..ops.len())
        .filter(|&i| !definite(&ops[i].answer))
        .collect();
    let tasks: Vec<_> = pending
        .iter()
        .map(|&i| {
            let request = ops[i].request(&http, &server.address, &users[ops[i].user]);
            let answered = answered.clone();
            tokio::spawn(async move {
                let answer = try_answer(request).await;
                answered.fetch_add(1, Ordering::SeqCst);
                answer
            })
        })
        .collect();
    if let Some(kill_at) = kill_at {
        let started = Instant::now();
        while answered.load(Ordering::SeqCst) < kill_at.min(pending.len())
            && started.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill();
    }
    let mut cut = 0;
    for (i, task) in pending.into_iter().zip(tasks) {
        let answer = task.await.unwrap();
        if answer.is_none() {
            cut += 1;
        }
        record(&mut ops[i], answer);
    }
    cut
}

/// Keeps a definite answer; a success, once seen, must be what every later
/// answer to that key repeats.
fn record(op: &mut Op, answer: Option<(StatusCode, Value)>) {
    if let Some((status, _)) = &op.answer {
        if status.is_success() {
            if let Some(again) = &answer {
                if definite(&answer) || again.0.is_success() {
                    assert_eq!(
                        op.answer.as_ref(),
                        Some(again),
                        "{op:?}: a key answered 2xx must replay it"
                    );
                }
            }
            return;
        }
    }
    if definite(&answer) {
        op.answer = answer;
    }
}

async fn kill_9_during_money(db: Db) {
    let Some(url) = db.fresh().await else { return };
    let env = settings();
    let server = Server::start(&url, &env).await;
    let users = set_up(&server).await;
    server.kill();

    let mut rng = rand::thread_rng();
    let mut ops: Vec<Op> = Vec::new();
    let mut cut = 0;
    for round in 0..ROUNDS {
        for (u, _) in users.iter().enumerate() {
            for j in 0..CHARGES_PER_ROUND {
                ops.push(Op {
                    user: u,
                    key: format!("charge-{round}-{j}"),
                    kind: Kind::Charge((round * CHARGES_PER_ROUND + j + 1) as i64),
                    answer: None,
                });
            }
            if u % (ROUNDS / 2) == round {
                ops.push(Op {
                    user: u,
                    key: format!("pay-{u}"),
                    kind: Kind::Pay(users[u].reservation_id),
                    answer: None,
                });
            }
        }
        let server = Server::start(&url, &env).await;
        let pending = ops.iter().filter(|op| !definite(&op.answer)).count();
        let kill_at = rng.gen_range(1..pending.max(2));
        cut += fire(server, &mut ops, &users, Some(kill_at)).await;
    }
    assert!(cut > 0, "no kill landed while a request was in flight");

    // The last restart: retry every unknown outcome with its key until each
    // has a definite answer (claims of killed runs are taken over).
    let server = Server::start(&url, &env).await;
    let started = Instant::now();
    while ops.iter().any(|op| !definite(&op.answer)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "requests still without a definite answer after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let http = client();
        for op in ops.iter_mut().filter(|op| !definite(&op.answer)) {
            let answer = try_answer(op.request(&http, &server.address, &users[op.user])).await;
            record(op, answer);
        }
    }
    // Every key, once more: a success replays byte for byte (checked in record).
    let http = client();
    for op in ops.iter_mut() {
        let answer = try_answer(op.request(&http, &server.address, &users[op.user])).await;
        record(op, answer);
    }
    check_money(&server, &url, &users, &ops).await;
    eprintln!(
        "{} requests, {} cut by {ROUNDS} kills, all settled",
        ops.len(),
        cut
    );
}

/// Users with an ACTIVE queue token, one HELD seat each and points to pay it.
async fn set_up(server: &Server) -> Vec<User> {
    let http = client();
    let a = &server.address;
    let starts_at = chrono::Utc::now() + chrono::Duration::days(1);
    let (status, concert) = try_answer(
        http.post(format!("{a}/api/v1/admin/concerts"))
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Crash", "venue": "Hall", "schedules": [
                {"startsAt": starts_at, "seatCount": USERS, "price": PRICE}]})),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{concert}");
    let concert_id = concert["concertId"].as_i64().unwrap();
    let schedule_id = concert["schedules"][0]["scheduleId"].as_i64().unwrap();
    let mut users = Vec::new();
    for i in 0..USERS {
        let login = json!({"loginId": format!("crash{i:03}"), "password": "password-123"});
        let (status, _) = try_answer(http.post(format!("{a}/api/v1/users")).json(&login))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED);
        let (_, session) = try_answer(http.post(format!("{a}/api/v1/auth/token")).json(&login))
            .await
            .unwrap();
        let id = session["userId"].as_i64().unwrap();
        let token = session["accessToken"].as_str().unwrap().to_owned();
        let (_, ticket) = try_answer(
            http.post(format!("{a}/api/v1/concerts/{concert_id}/queue/tokens"))
                .bearer_auth(&token),
        )
        .await
        .unwrap();
        let queue_token = ticket["token"].as_str().unwrap().to_owned();
        let mut active = false;
        for _ in 0..200 {
            let (_, now) = try_answer(
                http.get(format!("{a}/api/v1/queue/tokens/current"))
                    .bearer_auth(&token)
                    .header("X-Queue-Token", &queue_token),
            )
            .await
            .unwrap();
            if now["status"] == "ACTIVE" {
                active = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(active, "user {i} admitted");
        let (_, map) = try_answer(
            http.get(format!(
                "{a}/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
            ))
            .bearer_auth(&token)
            .header("X-Queue-Token", &queue_token),
        )
        .await
        .unwrap();
        let seat_id = map["seats"][i]["seatId"].as_i64().unwrap();
        let (status, held) = try_answer(
            http.post(format!("{a}/api/v1/reservations"))
                .bearer_auth(&token)
                .header("X-Queue-Token", &queue_token)
                .json(&json!({"scheduleId": schedule_id, "seatId": seat_id})),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let (status, _) = try_answer(
            http.post(format!("{a}/api/v1/users/{id}/points/charge"))
                .bearer_auth(&token)
                .json(&json!({ "amount": PRICE })),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        users.push(User {
            id,
            token,
            queue_token,
            reservation_id: held["reservationId"].as_i64().unwrap(),
        });
    }
    users
}

/// Answer 2xx ⇔ money moved, exactly once; balance = sum of history; each
/// seat sold once.
async fn check_money(server: &Server, url: &str, users: &[User], ops: &[Op]) {
    let http = client();
    let a = &server.address;
    for (u, user) in users.iter().enumerate() {
        let (_, history) = try_answer(
            http.get(format!("{a}/api/v1/users/{}/points/history", user.id))
                .bearer_auth(&user.token),
        )
        .await
        .unwrap();
        let entries = history["entries"].as_array().unwrap();
        let (_, balance) = try_answer(
            http.get(format!("{a}/api/v1/users/{}/points", user.id))
                .bearer_auth(&user.token),
        )
        .await
        .unwrap();
        let sum: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
        assert_eq!(
            balance["balance"].as_i64(),
            Some(sum),
            "user {u}: balance = sum of history"
        );
        // Amount → the entries with it (charge amounts are unique per user;
        // the set-up charge is PRICE, payments are -PRICE).
        let mut moved: HashMap<(String, i64), Vec<&Value>> = HashMap::new();
        for e in entries {
            moved
                .entry((
                    e["type"].as_str().unwrap().to_owned(),
                    e["amount"].as_i64().unwrap(),
                ))
                .or_default()
                .push(e);
        }
        for op in ops.iter().filter(|op| op.user == u) {
            let (status, body) = op.answer.as_ref().unwrap();
            let (kind, amount) = match op.kind {
                Kind::Charge(amount) => ("CHARGE", amount),
                Kind::Pay(_) => ("PAYMENT", -PRICE),
            };
            let found = moved.get(&(kind.to_owned(), amount)).map_or(0, Vec::len);
            if status.is_success() {
                assert_eq!(found, 1, "{op:?}: answered {status}, moved {found} times");
                let entry = moved[&(kind.to_owned(), amount)][0];
                assert_eq!(
                    body["balance"], entry["balanceAfter"],
                    "{op:?}: the answer reports the balance its money left"
                );
            } else {
                assert_eq!(
                    found, 0,
                    "{op:?}: answered {status} {body}, yet money moved"
                );
            }
        }
    }
    let db = Database::connect(url).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let paid = ops
        .iter()
        .filter(|op| matches!(op.kind, Kind::Pay(_)))
        .filter(|op| op.answer.as_ref().is_some_and(|(s, _)| s.is_success()))
        .count() as i64;
    assert_eq!(count("SELECT COUNT(*) FROM payments").await, paid);
    assert_eq!(
        count("SELECT COUNT(DISTINCT reservation_id) FROM payments").await,
        paid
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM seats WHERE status = 'SOLD'").await,
        paid
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM idempotency_keys WHERE response_status IS NULL").await,
        0,
        "every key ends answered"
    );
    db.close().await.ok();
}
