//! The money invariants every fault test ends with, for users who each hold
//! seats of one price and whose charges have amounts unique per user: no
//! seat sold twice, balance = sum of history, and every answer matches the
//! money (2xx ⇔ one history entry of its amount, with the balance it left).

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};

use crate::server::{client, try_answer, ADMIN_KEY};

/// A signed-in user of a fault test.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub token: String,
}

/// What a user asked for and what came back (the final answer).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub user: usize,
    /// `CHARGE` or `PAYMENT`.
    pub kind: &'static str,
    /// The history amount it moves when it succeeds (a payment's is negative).
    pub amount: i64,
    pub status: StatusCode,
    pub body: Value,
}

/// Signs `n` users up (`{prefix}{i}`) and logs them in.
pub async fn users(a: &str, prefix: &str, n: usize) -> Vec<User> {
    let http = client();
    let mut users = Vec::new();
    for i in 0..n {
        let login = json!({"loginId": format!("{prefix}{i:03}"), "password": "password-123"});
        let (status, body) = try_answer(http.post(format!("{a}/api/v1/users")).json(&login))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, session) =
            try_answer(http.post(format!("{a}/api/v1/auth/token")).json(&login))
                .await
                .unwrap();
        assert_eq!(status, StatusCode::OK, "{session}");
        users.push(User {
            id: session["userId"].as_i64().unwrap(),
            token: session["accessToken"].as_str().unwrap().to_owned(),
        });
    }
    users
}

/// A concert of one schedule a day ahead: its id and the schedule's.
pub async fn concert(a: &str, seats: usize, price: i64) -> (i64, i64) {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(1);
    let (status, concert) = try_answer(
        client()
            .post(format!("{a}/api/v1/admin/concerts"))
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Fault", "venue": "Hall", "schedules": [
                {"startsAt": starts_at, "seatCount": seats, "price": price}]})),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{concert}");
    (
        concert["concertId"].as_i64().unwrap(),
        concert["schedules"][0]["scheduleId"].as_i64().unwrap(),
    )
}

/// Joins `concert_id`'s line and waits (bounded) until the token is ACTIVE.
pub async fn admit(a: &str, user: &User, concert_id: i64) -> String {
    let http = client();
    let (status, ticket) = try_answer(
        http.post(format!("{a}/api/v1/concerts/{concert_id}/queue/tokens"))
            .bearer_auth(&user.token),
    )
    .await
    .unwrap();
    assert!(status.is_success(), "join: {status} {ticket}");
    let queue_token = ticket["token"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let (_, now) = try_answer(
            http.get(format!("{a}/api/v1/queue/tokens/current"))
                .bearer_auth(&user.token)
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

/// Holds seat number `index` of the seat map: the reservation id.
pub async fn hold(
    a: &str,
    user: &User,
    queue_token: &str,
    (concert_id, schedule_id): (i64, i64),
    index: usize,
) -> i64 {
    let http = client();
    let (_, map) = try_answer(
        http.get(format!(
            "{a}/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
        ))
        .bearer_auth(&user.token)
        .header("X-Queue-Token", queue_token),
    )
    .await
    .unwrap();
    let seat_id = map["seats"][index]["seatId"].as_i64().unwrap();
    let (status, held) = try_answer(
        http.post(format!("{a}/api/v1/reservations"))
            .bearer_auth(&user.token)
            .header("X-Queue-Token", queue_token)
            .json(&json!({"scheduleId": schedule_id, "seatId": seat_id})),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{held}");
    held["reservationId"].as_i64().unwrap()
}

/// Checks every invariant; `outcomes` are the final answers of the charges
/// and payments the test made (set-up ones included).
pub async fn check(a: &str, db_url: &str, users: &[User], outcomes: &[Outcome]) {
    let http = client();
    for (u, user) in users.iter().enumerate() {
        let (status, history) = try_answer(
            http.get(format!(
                "{a}/api/v1/users/{}/points/history?limit=500",
                user.id
            ))
            .bearer_auth(&user.token),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::OK, "{history}");
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
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.user == u).collect();
        for o in &mine {
            let landed: Vec<&Value> = entries
                .iter()
                .filter(|e| e["type"] == o.kind && e["amount"] == o.amount)
                .collect();
            if o.status.is_success() {
                assert_eq!(
                    landed.len(),
                    1,
                    "{o:?}: answered 2xx, moved {}",
                    landed.len()
                );
                assert_eq!(
                    o.body["balance"], landed[0]["balanceAfter"],
                    "{o:?}: the answer reports the balance its money left"
                );
            } else {
                assert!(landed.is_empty(), "{o:?}: refused, yet money moved");
            }
        }
        // Nothing moved that no answer accounts for.
        let successes = mine.iter().filter(|o| o.status.is_success()).count();
        assert_eq!(entries.len(), successes, "user {u}: {history}");
    }
    let db = Database::connect(db_url).await.unwrap();
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
    let paid = outcomes
        .iter()
        .filter(|o| o.kind == "PAYMENT" && o.status.is_success())
        .count() as i64;
    assert_eq!(count("SELECT COUNT(*) FROM payments").await, paid);
    assert_eq!(
        count("SELECT COUNT(DISTINCT reservation_id) FROM payment_items").await,
        count("SELECT COUNT(*) FROM payment_items").await,
        "no reservation in two payments"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM seats WHERE status = 'SOLD'").await,
        paid,
        "one SOLD seat per payment"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM (SELECT seat_id FROM reservations WHERE status = 'CONFIRMED' \
             GROUP BY seat_id HAVING COUNT(*) > 1) twice"
        )
        .await,
        0,
        "no seat sold twice"
    );
    db.close().await.ok();
}
