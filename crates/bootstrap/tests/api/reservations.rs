use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::helpers::{
    assert_code, assert_problem, e2e, e2e_on, eventually, spawn_app, spawn_app_with, Backend,
};

e2e!(
    hold_list_get_and_cancel,
    hold_refusals_follow_the_contract,
    a_lapsed_hold_frees_its_seat_and_cannot_be_paid,
);
e2e_on!([sqlite, postgres, sqlite_redis, postgres_redis] a_hold_admits_only_the_callers_active_token);

async fn hold_list_get_and_cancel(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 45_000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let bob_token = app.admitted(&bob, concert_id).await;
    let seat1 = app
        .seat_id(&alice, &token, concert_id, schedules[0], 1)
        .await;
    let seat2 = app
        .seat_id(&alice, &token, concert_id, schedules[0], 2)
        .await;

    let (status, held) = app.hold(&alice, &token, schedules[0], seat1).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "HELD");
    assert_eq!(
        (held["seatId"].as_i64(), held["seatNumber"].as_i64()),
        (Some(seat1), Some(1))
    );
    assert_eq!(
        (held["scheduleId"].as_i64(), held["price"].as_i64()),
        (Some(schedules[0]), Some(45_000))
    );
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(held["expiresAt"].as_str().unwrap()).unwrap();
    let ttl = expires_at
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!(
        (290..=300).contains(&ttl),
        "hold lasts hold_ttl_secs: {ttl}"
    );
    let (_, second) = app.hold(&alice, &token, schedules[0], seat2).await;

    let (_, map) = app.seats(&bob, &bob_token, concert_id, schedules[0]).await;
    let statuses: Vec<&str> = map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["HELD", "HELD", "AVAILABLE"]);

    let list: Value = app.get_json_as(&alice, "/api/v1/reservations").await;
    let ids: Vec<&Value> = list["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["reservationId"])
        .collect();
    assert_eq!(
        ids,
        vec![&second["reservationId"], &held["reservationId"]],
        "newest first"
    );
    let empty: Value = app.get_json_as(&bob, "/api/v1/reservations").await;
    assert_eq!(empty["reservations"], serde_json::json!([]));

    let id = held["reservationId"].as_i64().unwrap();
    let (status, one) = app.reservation(&alice, id).await;
    assert_eq!((status, &one), (StatusCode::OK, &held));
    let (status, body) = app.reservation(&bob, id).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app.reservation(&alice, 987_654).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Someone else cannot cancel it; its holder can, and the seat is free at once.
    let path = format!("/api/v1/reservations/{id}");
    assert_problem(
        app.delete(&path)
            .bearer_auth(&bob.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let cancelled = app
        .delete(&path)
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    let (status, taken) = app.hold(&bob, &bob_token, schedules[0], seat1).await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    assert_problem(
        app.delete(&path)
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "RESERVATION_NOT_CANCELLABLE",
    )
    .await;
    assert_eq!(app.reservation(&alice, id).await.1["status"], "CANCELLED");
}

async fn hold_refusals_follow_the_contract(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 2).await;
    let (concert_id, schedules) = app
        .concert(&[(3600, 5, 1000), (3600, 5, 1000), (-60, 5, 1000)])
        .await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let bob_token = app.admitted(&bob, concert_id).await;
    let seat = |n| app.seat_id(&alice, &token, concert_id, schedules[0], n);
    let (s1, s2, s3) = (seat(1).await, seat(2).await, seat(3).await);
    let other_schedule_seat = app
        .seat_id(&alice, &token, concert_id, schedules[1], 1)
        .await;

    assert_eq!(
        app.hold(&alice, &token, schedules[0], s1).await.0,
        StatusCode::CREATED
    );
    let (status, body) = app.hold(&bob, &bob_token, schedules[0], s1).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SEAT_UNAVAILABLE");
    let (status, body) = app.hold(&alice, &token, schedules[0], s1).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SEAT_UNAVAILABLE");
    assert_eq!(
        app.hold(&alice, &token, schedules[0], s2).await.0,
        StatusCode::CREATED
    );
    let (status, body) = app.hold(&alice, &token, schedules[0], s3).await;
    assert_code(status, &body, StatusCode::CONFLICT, "HOLD_LIMIT_EXCEEDED");

    // A seat of another schedule, or no seat at all: not found.
    let (status, body) = app
        .hold(&bob, &bob_token, schedules[0], other_schedule_seat)
        .await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app.hold(&bob, &bob_token, schedules[0], 999_999).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app.hold(&bob, &bob_token, 999_999, s3).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    // A schedule that has started is closed.
    let started_seat = app
        .seat_id(&bob, &bob_token, concert_id, schedules[2], 1)
        .await;
    let (status, body) = app.hold(&bob, &bob_token, schedules[2], started_seat).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SCHEDULE_CLOSED");

    // Queue guard and bad bodies.
    let (status, body) = app.hold(&bob, "not-a-token", schedules[0], s3).await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    for bad in [
        serde_json::json!({"scheduleId": "x", "seatId": 1}),
        serde_json::json!({"seatId": 1}),
    ] {
        let response = app
            .post("/api/v1/reservations")
            .bearer_auth(&bob.token)
            .header("X-Queue-Token", &bob_token)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
}

async fn a_lapsed_hold_frees_its_seat_and_cannot_be_paid(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.reservation.hold_ttl_secs = 1;
        // The sweeper is slow here so that "free at once" is seen before it runs.
        s.reservation.sweep_interval_ms = 60_000;
    })
    .await;
    let (concert_id, schedules) = app.concert(&[(3600, 2, 1000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let bob_token = app.admitted(&bob, concert_id).await;
    assert_eq!(
        app.charge(&alice, 5000.into(), None).await.0,
        StatusCode::OK
    );
    let seat = app
        .seat_id(&alice, &token, concert_id, schedules[0], 1)
        .await;
    let (_, held) = app.hold(&alice, &token, schedules[0], seat).await;
    let id = held["reservationId"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    assert_eq!(app.reservation(&alice, id).await.1["status"], "EXPIRED");
    let (_, map) = app.seats(&bob, &bob_token, concert_id, schedules[0]).await;
    assert_eq!(map["seats"][0]["status"], "AVAILABLE");
    let (status, body) = app.pay(&alice, &token, id, None).await;
    assert_code(status, &body, StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(
        app.balance(&alice).await,
        5000,
        "a failed payment changes nothing"
    );
    let (status, body) = app.hold(&bob, &bob_token, schedules[0], seat).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(app.reservation(&alice, id).await.1["status"], "EXPIRED");
    assert_problem(
        app.delete(&format!("/api/v1/reservations/{id}"))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "RESERVATION_NOT_CANCELLABLE",
    )
    .await;
}

e2e!(the_sweeper_writes_lapsed_holds_down);

async fn the_sweeper_writes_lapsed_holds_down(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.hold_ttl_secs = 1).await;
    let (concert_id, schedules) = app.concert(&[(3600, 2, 1000)]).await;
    let alice = app.user("alice").await;
    let token = app.admitted(&alice, concert_id).await;
    let seat = app
        .seat_id(&alice, &token, concert_id, schedules[0], 2)
        .await;
    let (_, held) = app.hold(&alice, &token, schedules[0], seat).await;
    let db = app.db().await;
    let id = held["reservationId"].as_i64().unwrap();
    eventually("the sweeper marks the hold EXPIRED and frees the seat", || async {
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT r.status AS r, s.status AS s FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.id = {id}"
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        let (r, s): (String, String) = (row.try_get("", "r").unwrap(), row.try_get("", "s").unwrap());
        r == "EXPIRED" && s == "AVAILABLE"
    })
    .await;
}

/// The queue token is judged where the hold is written (in its statement
/// when the queue shares the database, before it with Redis): every bad
/// token is refused with the contract's code and writes nothing, and an
/// unknown seat is still named first.
async fn a_hold_admits_only_the_callers_active_token(backend: Backend) {
    let queue_in_db = backend.redis.is_none();
    let app = spawn_app_with(backend, |s| s.queue.max_active_per_concert = 1).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 1000)]).await;
    let (other_concert, _) = app.concert(&[(3600, 3, 1000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let elsewhere = app.admitted(&alice, other_concert).await;
    let (_, waiting) = app.join_queue(&bob, concert_id).await;
    let waiting = waiting["token"].as_str().unwrap().to_owned();
    let seat = app
        .seat_id(&alice, &token, concert_id, schedules[0], 1)
        .await;
    let second = app
        .seat_id(&alice, &token, concert_id, schedules[0], 2)
        .await;

    let (status, body) = app.hold(&bob, &waiting, schedules[0], seat).await;
    assert_code(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "QUEUE_TOKEN_NOT_ACTIVE",
    );
    let (status, body) = app.hold(&bob, &waiting, schedules[0], 999_999).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    for (user, token) in [
        (&bob, token.as_str()),
        (&alice, elsewhere.as_str()),
        (&alice, "no-such-token"),
    ] {
        let (status, body) = app.hold(user, token, schedules[0], seat).await;
        assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    }
    let (status, held) = app.hold(&alice, &token, schedules[0], seat).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{held}: the refusals wrote nothing"
    );

    if queue_in_db {
        // An ACTIVE token whose window has ended, before any sweep: invalid.
        let db = app.db().await;
        db.execute(Statement::from_string(
            db.get_database_backend(),
            format!("UPDATE queue_tokens SET expires_at_ms = 1 WHERE token = '{token}'"),
        ))
        .await
        .unwrap();
        let (status, body) = app.hold(&alice, &token, schedules[0], second).await;
        assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    }
}
