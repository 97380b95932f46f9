//! SIGKILL during charges and payments with `Idempotency-Key`, many times:
//! after restarts and same-key retries, every request's final answer is 2xx
//! exactly when its money moved, and it moved once. The same for payments
//! of two seats at once and for refunds of payments made during set-up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{json, Value};

use crate::server::{client, try_answer, Db, Server, ADMIN_KEY};

const USERS: usize = 16;
const ROUNDS: usize = 12;
const CHARGES_PER_ROUND: usize = 2;
const PRICE: i64 = 10_000;
/// The seat price of the concert paid two seats at a time: `-2 * PRICE_MANY`
/// is an amount no other history entry has.
const PRICE_MANY: i64 = 3_000;
/// The seat price of the concert whose set-up payments are refunded.
const PRICE_REFUND: i64 = 7_000;
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
    /// The queue token and two HELD seats of the concert paid two at a time.
    many_queue_token: String,
    many_reservation_ids: [i64; 2],
    /// A payment made during set-up (refunds open) and its reservation.
    refund_payment_id: i64,
    refund_reservation_id: i64,
}

#[derive(Clone, Debug)]
enum Kind {
    Charge(i64),
    Pay(i64),
    /// Two reservations of one concert in one payment.
    PayMany([i64; 2]),
    /// A refund of the payment with this id.
    Refund(i64),
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
            Kind::PayMany(reservation_ids) => http
                .post(format!("{address}/api/v1/payments"))
                .header("X-Queue-Token", &user.many_queue_token)
                .json(&json!({ "reservationIds": reservation_ids })),
            Kind::Refund(payment_id) => {
                http.post(format!("{address}/api/v1/payments/{payment_id}/refund"))
            }
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
            if (u + 3) % (ROUNDS / 2) + 3 == round {
                ops.push(Op {
                    user: u,
                    key: format!("pay-many-{u}"),
                    kind: Kind::PayMany(users[u].many_reservation_ids),
                    answer: None,
                });
            }
            if u % (ROUNDS / 2) + ROUNDS / 2 == round {
                ops.push(Op {
                    user: u,
                    key: format!("refund-{u}"),
                    kind: Kind::Refund(users[u].refund_payment_id),
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

/// A concert of one schedule `days` ahead: its id and the schedule's.
async fn create_concert(
    http: &reqwest::Client,
    a: &str,
    days: i64,
    seat_count: usize,
    price: i64,
) -> (i64, i64) {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(days);
    let (status, concert) = try_answer(
        http.post(format!("{a}/api/v1/admin/concerts"))
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Crash", "venue": "Hall", "schedules": [
                {"startsAt": starts_at, "seatCount": seat_count, "price": price}]})),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{concert}");
    (
        concert["concertId"].as_i64().unwrap(),
        concert["schedules"][0]["scheduleId"].as_i64().unwrap(),
    )
}

/// A queue token of `concert_id`, once it is ACTIVE.
async fn admit(http: &reqwest::Client, a: &str, token: &str, concert_id: i64) -> String {
    let (_, ticket) = try_answer(
        http.post(format!("{a}/api/v1/concerts/{concert_id}/queue/tokens"))
            .bearer_auth(token),
    )
    .await
    .unwrap();
    let queue_token = ticket["token"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let (_, now) = try_answer(
            http.get(format!("{a}/api/v1/queue/tokens/current"))
                .bearer_auth(token)
                .header("X-Queue-Token", &queue_token),
        )
        .await
        .unwrap();
        if now["status"] == "ACTIVE" {
            return queue_token;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not admitted to concert {concert_id}");
}

/// Holds the seats at `indexes` of the seat map: their reservation ids.
async fn hold(
    http: &reqwest::Client,
    a: &str,
    (token, queue_token): (&str, &str),
    (concert_id, schedule_id): (i64, i64),
    indexes: &[usize],
) -> Vec<i64> {
    let (_, map) = try_answer(
        http.get(format!(
            "{a}/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
        ))
        .bearer_auth(token)
        .header("X-Queue-Token", queue_token),
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for &i in indexes {
        let seat_id = map["seats"][i]["seatId"].as_i64().unwrap();
        let (status, held) = try_answer(
            http.post(format!("{a}/api/v1/reservations"))
                .bearer_auth(token)
                .header("X-Queue-Token", queue_token)
                .json(&json!({"scheduleId": schedule_id, "seatId": seat_id})),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{held}");
        ids.push(held["reservationId"].as_i64().unwrap());
    }
    ids
}

/// Users with an ACTIVE queue token, one HELD seat each and points to pay
/// it; two HELD seats of a second concert (and its queue token) to pay in
/// one payment; a payment of a third concert, far enough ahead that refunds
/// are open, to refund.
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
    let many = create_concert(&http, a, 3, 2 * USERS, PRICE_MANY).await;
    let refunded = create_concert(&http, a, 3, USERS, PRICE_REFUND).await;
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
        // Points for the payment refunded later and the two-seat payment: an
        // amount no charge of the rounds has.
        let (status, _) = try_answer(
            http.post(format!("{a}/api/v1/users/{id}/points/charge"))
                .bearer_auth(&token)
                .json(&json!({ "amount": PRICE_REFUND + 2 * PRICE_MANY })),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        let many_queue_token = admit(&http, a, &token, many.0).await;
        let many_reservation_ids = hold(
            &http,
            a,
            (&token, &many_queue_token),
            many,
            &[2 * i, 2 * i + 1],
        )
        .await;
        let refund_queue_token = admit(&http, a, &token, refunded.0).await;
        let refund_reservation_id =
            hold(&http, a, (&token, &refund_queue_token), refunded, &[i]).await[0];
        let (status, paid) = try_answer(
            http.post(format!("{a}/api/v1/payments"))
                .bearer_auth(&token)
                .header("X-Queue-Token", &refund_queue_token)
                .json(&json!({ "reservationId": refund_reservation_id })),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        users.push(User {
            id,
            token,
            queue_token,
            reservation_id: held["reservationId"].as_i64().unwrap(),
            many_queue_token,
            many_reservation_ids: [many_reservation_ids[0], many_reservation_ids[1]],
            refund_payment_id: paid["paymentId"].as_i64().unwrap(),
            refund_reservation_id,
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
        // the set-up charges are PRICE and PRICE_REFUND + 2 * PRICE_MANY,
        // payments are -PRICE, -PRICE_REFUND (set-up) and -2 * PRICE_MANY,
        // refunds PRICE_REFUND).
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
        assert_eq!(
            moved
                .get(&("PAYMENT".to_owned(), -PRICE_REFUND))
                .map_or(0, Vec::len),
            1,
            "user {u}: the set-up payment, once"
        );
        for op in ops.iter().filter(|op| op.user == u) {
            let (status, body) = op.answer.as_ref().unwrap();
            let (kind, amount) = match op.kind {
                Kind::Charge(amount) => ("CHARGE", amount),
                Kind::Pay(_) => ("PAYMENT", -PRICE),
                Kind::PayMany(_) => ("PAYMENT", -2 * PRICE_MANY),
                Kind::Refund(_) => ("REFUND", PRICE_REFUND),
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
    let succeeded = |kind: fn(&Kind) -> bool| {
        ops.iter()
            .filter(|op| kind(&op.kind))
            .filter(|op| op.answer.as_ref().is_some_and(|(s, _)| s.is_success()))
            .count() as i64
    };
    let paid = succeeded(|k| matches!(k, Kind::Pay(_)));
    let paid_many = succeeded(|k| matches!(k, Kind::PayMany(_)));
    let refunds = succeeded(|k| matches!(k, Kind::Refund(_)));
    // Every payment: those of the rounds and the set-up ones (one per user).
    let payments = paid + paid_many + USERS as i64;
    assert_eq!(count("SELECT COUNT(*) FROM payments").await, payments);
    assert_eq!(
        count("SELECT COUNT(DISTINCT reservation_id) FROM payments").await,
        payments
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM seats WHERE status = 'SOLD'").await,
        paid + 2 * paid_many + USERS as i64 - refunds
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM payment_items").await,
        count("SELECT COUNT(DISTINCT reservation_id) FROM payment_items").await,
        "no reservation in two payments"
    );
    check_many_and_refunds(server, &db, users, ops).await;
    // Nothing stands in their way (points, holds and queue tokens last), so
    // each ends 2xx: a retry answered 409 for money a killed run moved
    // (its claim not completed with it) would fail here as well as above.
    assert_eq!(
        (paid_many, refunds),
        (USERS as i64, USERS as i64),
        "every two-seat payment and every refund ends 2xx"
    );
    eprintln!("{paid} payments, {paid_many} two-seat payments, {refunds} refunds answered 2xx");
    assert_eq!(
        count("SELECT COUNT(*) FROM idempotency_keys WHERE response_status IS NULL").await,
        0,
        "every key ends answered"
    );
    db.close().await.ok();
}

/// The reservation's status and its seat's.
async fn statuses(db: &DatabaseConnection, reservation_id: i64) -> (String, String) {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT r.status, s.status FROM reservations r \
                 JOIN seats s ON s.id = r.seat_id WHERE r.id = {reservation_id}"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// How many payments hold the reservation.
async fn payment_items(db: &DatabaseConnection, reservation_id: i64) -> i64 {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM payment_items WHERE reservation_id = {reservation_id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// A two-seat payment answered 2xx ⇔ both reservations CONFIRMED, both
/// seats SOLD, in one payment; a refund answered 2xx ⇔ the payment REFUNDED,
/// its reservation too, its seat no longer SOLD. (The history side, one
/// entry of the amount, is checked with the other ops.)
async fn check_many_and_refunds(
    server: &Server,
    db: &DatabaseConnection,
    users: &[User],
    ops: &[Op],
) {
    let http = client();
    let a = &server.address;
    for op in ops {
        let user = &users[op.user];
        let (status, body) = op.answer.as_ref().unwrap();
        match op.kind {
            Kind::PayMany(ids) => {
                for id in ids {
                    let (reservation, seat) = statuses(db, id).await;
                    let items = payment_items(db, id).await;
                    if status.is_success() {
                        assert_eq!(
                            (reservation.as_str(), seat.as_str(), items),
                            ("CONFIRMED", "SOLD", 1),
                            "{op:?}: answered {status}, reservation {id}"
                        );
                    } else {
                        assert_eq!(
                            (reservation.as_str(), seat.as_str(), items),
                            ("HELD", "HELD", 0),
                            "{op:?}: answered {status} {body}, reservation {id}"
                        );
                    }
                }
                if status.is_success() {
                    assert_eq!(body["reservationIds"], json!(ids), "{op:?}");
                    assert_eq!(body["amount"], json!(2 * PRICE_MANY), "{op:?}");
                }
            }
            Kind::Refund(payment_id) => {
                let (_, payment) = try_answer(
                    http.get(format!("{a}/api/v1/payments/{payment_id}"))
                        .bearer_auth(&user.token),
                )
                .await
                .unwrap();
                let (reservation, seat) = statuses(db, user.refund_reservation_id).await;
                if status.is_success() {
                    assert_eq!(payment["status"], "REFUNDED", "{op:?}: {payment}");
                    assert_eq!(
                        (reservation.as_str(), seat.as_str()),
                        ("REFUNDED", "AVAILABLE"),
                        "{op:?}: answered {status}"
                    );
                    assert_eq!(body["status"], "REFUNDED", "{op:?}");
                    assert_eq!(body["amount"], json!(PRICE_REFUND), "{op:?}");
                } else {
                    assert_eq!(payment["status"], "PAID", "{op:?}: {payment}");
                    assert_eq!(
                        (reservation.as_str(), seat.as_str()),
                        ("CONFIRMED", "SOLD"),
                        "{op:?}: answered {status} {body}"
                    );
                }
            }
            Kind::Charge(_) | Kind::Pay(_) => {}
        }
    }
}
