//! The on-sale: sale terms in the catalogue and the per-user ticket limit.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    answer, assert_code, e2e, fresh_database_url, spawn_app_with, Backend, TestApp, ADMIN_KEY,
};

e2e!(
    an_existing_database_upgrades_to_the_on_sale_schema,
    concerts_carry_their_sale_terms,
    sale_terms_are_validated,
    ten_racing_holds_by_one_user_respect_the_ticket_limit_counting_paid_seats,
    the_hold_limit_is_checked_before_the_ticket_limit,
);

/// Creates a concert from `extra` members on top of one 20-seat schedule an hour away.
pub async fn create_concert(app: &TestApp, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({
        "title": "On-sale", "venue": "Hall",
        "schedules": [{"startsAt": chrono::Utc::now() + chrono::Duration::hours(1), "seatCount": 20, "price": 1000}],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    answer(
        app.post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&body),
    )
    .await
}

async fn concerts_carry_their_sale_terms(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_tickets_per_user = 6).await;
    let before = chrono::Utc::now();
    let (status, plain) = create_concert(&app, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(plain["maxTicketsPerUser"], 6, "the configured default");
    let opens: chrono::DateTime<chrono::Utc> =
        plain["saleOpensAt"].as_str().unwrap().parse().unwrap();
    assert!(opens >= before - chrono::Duration::seconds(1) && opens <= chrono::Utc::now());

    let at = "2031-05-01T10:00:00Z";
    let (status, later) =
        create_concert(&app, json!({"saleOpensAt": at, "maxTicketsPerUser": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    assert_eq!(
        (
            later["maxTicketsPerUser"].as_i64(),
            later["saleOpensAt"].as_str()
        ),
        (Some(2), Some(at))
    );

    let list = app.get_json("/api/v1/concerts").await;
    let listed = list["concerts"].as_array().unwrap();
    let find = |id: &Value| {
        listed
            .iter()
            .find(|c| c["concertId"] == *id)
            .unwrap()
            .clone()
    };
    let l = find(&later["concertId"]);
    assert_eq!(
        (l["maxTicketsPerUser"].as_i64(), l["saleOpensAt"].as_str()),
        (Some(2), Some(at))
    );
    assert_eq!(
        find(&plain["concertId"])["saleOpensAt"],
        plain["saleOpensAt"]
    );
}

async fn sale_terms_are_validated(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    for extra in [
        json!({"maxTicketsPerUser": 0}),
        json!({"maxTicketsPerUser": 51}),
        json!({"maxTicketsPerUser": 2.5}),
        json!({"maxTicketsPerUser": "3"}),
        json!({"saleOpensAt": "tomorrow"}),
        json!({"saleOpensAt": "2031-05-01 10:00"}),
    ] {
        let (status, body) = create_concert(&app, extra.clone()).await;
        assert_code(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
    }
    let (status, body) = create_concert(&app, json!({"maxTicketsPerUser": 50})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn ten_racing_holds_by_one_user_respect_the_ticket_limit_counting_paid_seats(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 20).await;
    let (_, concert) = create_concert(&app, json!({"maxTicketsPerUser": 3})).await;
    let concert_id = concert["concertId"].as_i64().unwrap();
    let schedule_id = concert["schedules"][0]["scheduleId"].as_i64().unwrap();
    let user = app.user("limited").await;
    app.charge(&user, json!(10_000), None).await;

    // One paid seat: it counts, though it is no longer a hold.
    let token = app.admitted(&user, concert_id).await;
    let first = app.seat_id(&user, &token, concert_id, schedule_id, 1).await;
    let (status, held) = app.hold(&user, &token, schedule_id, first).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let (status, paid) = app
        .pay(&user, &token, held["reservationId"].as_i64().unwrap(), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    // A cancelled hold counts for nothing.
    let token = app.admitted(&user, concert_id).await;
    let second = app.seat_id(&user, &token, concert_id, schedule_id, 2).await;
    let (_, held) = app.hold(&user, &token, schedule_id, second).await;
    let cancelled = app
        .delete(&format!("/api/v1/reservations/{}", held["reservationId"]))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);

    let mut seats = Vec::new();
    for number in 3..=12 {
        seats.push(
            app.seat_id(&user, &token, concert_id, schedule_id, number)
                .await,
        );
    }
    let results = join_all(
        seats
            .iter()
            .map(|&seat| app.hold(&user, &token, schedule_id, seat)),
    )
    .await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "TICKET_LIMIT_EXCEEDED")
        .count();
    assert_eq!((won, refused), (2, 8), "{results:?}");
    let (status, body) = app.hold(&user, &token, schedule_id, second).await;
    assert_code(status, &body, StatusCode::CONFLICT, "TICKET_LIMIT_EXCEEDED");

    // Another concert has a limit of its own.
    let (_, other) = create_concert(&app, json!({"maxTicketsPerUser": 1})).await;
    let other_id = other["concertId"].as_i64().unwrap();
    let other_schedule = other["schedules"][0]["scheduleId"].as_i64().unwrap();
    let other_token = app.admitted(&user, other_id).await;
    let seat = app
        .seat_id(&user, &other_token, other_id, other_schedule, 1)
        .await;
    let (status, body) = app.hold(&user, &other_token, other_schedule, seat).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn the_hold_limit_is_checked_before_the_ticket_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 2).await;
    let (_, concert) = create_concert(&app, json!({"maxTicketsPerUser": 2})).await;
    let concert_id = concert["concertId"].as_i64().unwrap();
    let schedule_id = concert["schedules"][0]["scheduleId"].as_i64().unwrap();
    let user = app.user("both-limits").await;
    let token = app.admitted(&user, concert_id).await;
    for number in 1..=2 {
        let seat = app
            .seat_id(&user, &token, concert_id, schedule_id, number)
            .await;
        let (status, body) = app.hold(&user, &token, schedule_id, seat).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let seat = app.seat_id(&user, &token, concert_id, schedule_id, 3).await;
    let (status, body) = app.hold(&user, &token, schedule_id, seat).await;
    assert_code(status, &body, StatusCode::CONFLICT, "HOLD_LIMIT_EXCEEDED");
}

/// A database made by the first schema, with a concert and a live queue
/// token in it, takes the on-sale migrations: rows kept, PREQUEUE allowed,
/// one live token per user and concert still enforced.
async fn an_existing_database_upgrades_to_the_on_sale_schema(backend: Backend) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Statement};

    let url = fresh_database_url(&backend.db).await;
    let db = adapters_db::connect(&url, 1).await.unwrap();
    Migrator::up(&db, Some(1)).await.unwrap();
    for sql in [
        "INSERT INTO users (id, login_id, password_hash, created_at_ms) VALUES (1, 'old-user', 'x', 0)",
        "INSERT INTO concerts (id, title, venue) VALUES (1, 'Old', 'Hall')",
        "INSERT INTO queue_states (concert_id, issued_seq, admitted_seq) VALUES (1, 1, 1)",
        "INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms) \
         VALUES ('old-token', 1, 1, 1, 'ACTIVE', 0, 99999999999999)",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    let before = chrono::Utc::now().timestamp_millis();
    Migrator::up(&db, None).await.unwrap();
    let one = |sql: &str| {
        let (db, sql) = (&db, sql.to_owned());
        async move {
            db.query_one(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let concert =
        one("SELECT sale_opens_at_ms, max_tickets_per_user FROM concerts WHERE id = 1").await;
    let opens: i64 = concert.try_get("", "sale_opens_at_ms").unwrap();
    let limit: i32 = concert.try_get("", "max_tickets_per_user").unwrap();
    assert!(
        opens >= before - 1000,
        "existing concerts open from the upgrade"
    );
    assert_eq!(limit, 4);
    let token = one("SELECT status FROM queue_tokens WHERE token = 'old-token'").await;
    assert_eq!(token.try_get::<String>("", "status").unwrap(), "ACTIVE");
    let state = one("SELECT prequeued, paused FROM queue_states WHERE concert_id = 1").await;
    assert_eq!(state.try_get::<i64>("", "prequeued").unwrap(), 0);
    assert!(!state.try_get::<bool>("", "paused").unwrap());

    db.execute_unprepared("INSERT INTO concerts (id, title, venue) VALUES (2, 'New', 'Hall')")
        .await
        .unwrap();
    let prequeue = |token: &str, concert: i64, seq: i64| {
        format!(
            "INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms) \
             VALUES ('{token}', 1, {concert}, {seq}, 'PREQUEUE', 0)"
        )
    };
    db.execute_unprepared(&prequeue("pre-1", 2, 1))
        .await
        .unwrap();
    assert!(
        db.execute_unprepared(&prequeue("pre-2", 2, 2))
            .await
            .is_err(),
        "a second live token of the same user and concert"
    );
    assert!(db
        .execute_unprepared("UPDATE queue_tokens SET status = 'LOST' WHERE token = 'pre-1'")
        .await
        .is_err());
    assert!(db
        .execute_unprepared("UPDATE concerts SET max_tickets_per_user = 51 WHERE id = 2")
        .await
        .is_err());
}
