//! The on-sale's line: the pre-queue and its draw, live control, the sales
//! view. Queue scenarios run on both databases and with the queue on Redis.

use std::time::Duration;

use futures::{stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    answer, assert_code, e2e, e2e_on, e2e_queue, spawn_app, spawn_app_with, Backend, TestApp,
    TestUser, ADMIN_KEY,
};
use crate::onsale::create_concert;

e2e_queue!(
    a_drawn_prequeue_of_200_takes_places_1_to_200_at_random_and_latecomers_queue_behind,
    joining_before_the_prequeue_window_is_refused_and_a_prequeue_token_admits_nowhere,
    lowering_max_active_expires_nobody,
);
e2e_on!([postgres, postgres_redis] pause_stops_admission_on_two_instances_and_resume_admits_in_line_order);
e2e!(
    the_sales_view_counts_seats_and_revenue_exactly,
    queue_control_is_validated
);

/// A concert whose sale opens `opens_in` from now; returns its id and first schedule.
async fn concert_opening_in(app: &TestApp, opens_in: chrono::Duration) -> (i64, i64) {
    let opens = chrono::Utc::now() + opens_in;
    let (status, body) = create_concert(app, json!({ "saleOpensAt": opens })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["concertId"].as_i64().unwrap(),
        body["schedules"][0]["scheduleId"].as_i64().unwrap(),
    )
}

pub async fn control(app: &TestApp, concert_id: i64, body: Value) -> (StatusCode, Value) {
    answer(
        app.client
            .patch(format!(
                "{}/api/v1/admin/concerts/{concert_id}/queue",
                app.address
            ))
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&body),
    )
    .await
}

async fn sales(app: &TestApp, concert_id: i64) -> (StatusCode, Value) {
    answer(
        app.get(&format!("/api/v1/admin/concerts/{concert_id}/sales"))
            .header("X-Admin-Key", ADMIN_KEY),
    )
    .await
}

/// Each user's token body for the concert, joining one after another (join order).
async fn join_in_order(app: &TestApp, users: &[TestUser], concert_id: i64) -> Vec<Value> {
    let mut tokens = Vec::new();
    for user in users {
        let (status, body) = app.join_queue(user, concert_id).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokens.push(body);
    }
    tokens
}

/// Every token as polled now, a few polls at a time (as clients spread out).
async fn poll_all(app: &TestApp, users: &[TestUser], tokens: &[Value]) -> Vec<Value> {
    stream::iter(users.iter().zip(tokens))
        .map(|(user, token)| async move {
            let (status, body) = app
                .current_token(user, token["token"].as_str().unwrap())
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        })
        .buffered(16)
        .collect()
        .await
}

/// Polls every token until `done` holds of them (bounded); returns the last poll.
async fn poll_until(
    app: &TestApp,
    users: &[TestUser],
    tokens: &[Value],
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..400 {
        let polled = poll_all(app, users, tokens).await;
        if done(&polled) {
            return polled;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Spearman's rank correlation of the positions against join order 1..n.
fn rank_correlation(positions: &[i64]) -> f64 {
    let n = positions.len() as f64;
    let d2: f64 = positions
        .iter()
        .enumerate()
        .map(|(i, &p)| ((i as i64 + 1 - p) as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

async fn a_drawn_prequeue_of_200_takes_places_1_to_200_at_random_and_latecomers_queue_behind(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.queue.max_active_per_concert = 5).await;
    // Signed up 20 at a time: 200 Argon2 hashes at once outlast the client's timeout.
    let mut users = Vec::new();
    for batch in 0..10 {
        users.extend(app.users(&format!("early{batch}-"), 20).await);
    }
    let late = app.user("latecomer").await;
    // Time enough to join 2 x 200 before the opening; checked below.
    let opens_in = chrono::Duration::seconds(10);
    let (first, _) = concert_opening_in(&app, opens_in).await;
    let (second, _) = concert_opening_in(&app, opens_in).await;
    // The draw runs while paused too; pausing keeps the lines still to read them.
    for concert in [first, second] {
        let (status, _) = control(&app, concert, json!({"paused": true})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let a = join_in_order(&app, &users, first).await;
    let b = join_in_order(&app, &users, second).await;
    let before = poll_all(&app, &users, &a).await;
    for token in before.iter().chain(&b) {
        assert_eq!(token["status"], "PREQUEUE", "{token}");
        assert!(token["position"].is_null() && token["estimatedWaitSeconds"].is_null());
        assert!(token["expiresAt"].is_null());
        assert!(token["pollAfterMs"].as_u64().unwrap() >= 250, "{token}");
        assert!(token["saleOpensAt"].is_string());
    }
    let (_, overview) = control(&app, first, json!({})).await;
    assert_eq!(
        (overview["prequeued"].as_u64(), overview["active"].as_u64()),
        (Some(200), Some(0))
    );

    let drawn = |polled: &[Value]| polled.iter().all(|t| t["status"] != "PREQUEUE");
    tokio::time::sleep((opens_in - chrono::Duration::seconds(1)).to_std().unwrap()).await;
    let after_a = poll_until(&app, &users, &a, "the first draw", drawn).await;
    let positions_a: Vec<i64> = after_a
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    let mut sorted = positions_a.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (1..=200).collect::<Vec<_>>(),
        "places exactly 1..200"
    );
    assert!(
        after_a.iter().all(|t| t["status"] == "WAITING"),
        "paused: nobody admitted"
    );
    let rho = rank_correlation(&positions_a);
    // For a uniform draw of 200, rho has a standard deviation of about 0.07.
    assert!(rho.abs() < 0.3, "rank correlation with join order {rho}");
    assert!(after_a
        .iter()
        .all(|t| t["pollAfterMs"].as_u64().unwrap() >= 250));
    let head = after_a.iter().find(|t| t["position"] == 1).unwrap();
    let tail = after_a.iter().find(|t| t["position"] == 200).unwrap();
    assert!(tail["pollAfterMs"].as_u64() > head["pollAfterMs"].as_u64());

    // The second concert drew an order of its own.
    let after_b = poll_until(&app, &users, &b, "the second draw", drawn).await;
    let positions_b: Vec<i64> = after_b
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    let mut sorted = positions_b.clone();
    sorted.sort();
    assert_eq!(sorted, (1..=200).collect::<Vec<_>>());
    assert_ne!(positions_a, positions_b, "two concerts, two draws");

    // A latecomer stands behind the whole drawn line.
    let (status, token) = app.join_queue(&late, first).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (token["status"].as_str(), token["position"].as_i64()),
        (Some("WAITING"), Some(201))
    );

    // Resume: admission follows the drawn order.
    control(&app, first, json!({"paused": false})).await;
    poll_until(&app, &users, &a, "the head of the drawn line", |p| {
        p.iter().filter(|t| t["status"] == "ACTIVE").count() == 5
    })
    .await;
    // A poll reads the 200 tokens one after another, so the one that saw five
    // ACTIVE may have read some positions before the admission. With the cap
    // reached and long windows the line now stands still: read it once more.
    let now_active = poll_all(&app, &users, &a).await;
    for (token, place) in now_active.iter().zip(&positions_a) {
        let expected = if *place <= 5 { "ACTIVE" } else { "WAITING" };
        assert_eq!(token["status"], expected, "drawn place {place}: {token}");
        if *place > 5 {
            assert_eq!(token["position"].as_i64(), Some(place - 5));
        }
    }
}

async fn joining_before_the_prequeue_window_is_refused_and_a_prequeue_token_admits_nowhere(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.queue.prequeue_opens_secs = 600).await;
    let user = app.user("too-early").await;
    let (concert_id, schedule_id) = concert_opening_in(&app, chrono::Duration::seconds(700)).await;
    let (status, body) = app.join_queue(&user, concert_id).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SALE_NOT_OPEN");

    let (soon, soon_schedule) = concert_opening_in(&app, chrono::Duration::seconds(500)).await;
    let (status, token) = app.join_queue(&user, soon).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    assert_eq!(token["status"], "PREQUEUE");
    let poll = token["pollAfterMs"].as_u64().unwrap();
    assert!((250..=30_000).contains(&poll), "{poll}");
    let (status, again) = app.join_queue(&user, soon).await;
    assert_eq!((status, &again["token"]), (StatusCode::OK, &token["token"]));
    let (status, body) = app
        .seats(&user, token["token"].as_str().unwrap(), soon, soon_schedule)
        .await;
    assert_code(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "QUEUE_TOKEN_NOT_ACTIVE",
    );
    let _ = schedule_id;

    // A concert created without saleOpensAt has no pre-queue: admitted at once.
    let (status, plain) = create_concert(&app, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, token) = app
        .join_queue(&user, plain["concertId"].as_i64().unwrap())
        .await;
    assert_eq!(
        (token["status"].as_str(), token["pollAfterMs"].as_u64()),
        (Some("ACTIVE"), Some(0))
    );
    assert_eq!(token["saleOpensAt"], plain["saleOpensAt"]);
}

async fn lowering_max_active_expires_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, concert) = create_concert(&app, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let concert_id = concert["concertId"].as_i64().unwrap();
    let users = app.users("capped", 6).await;
    let tokens = join_in_order(&app, &users[..5], concert_id).await;
    assert!(tokens.iter().all(|t| t["status"] == "ACTIVE"));

    let (status, body) = control(&app, concert_id, json!({"maxActive": 2})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["maxActive"].as_u64(),
            body["active"].as_u64(),
            body["paused"].as_bool()
        ),
        (Some(2), Some(5), Some(false))
    );
    let (_, sixth) = app.join_queue(&users[5], concert_id).await;
    assert_eq!(
        (sixth["status"].as_str(), sixth["position"].as_i64()),
        (Some("WAITING"), Some(1))
    );
    // Several admit intervals later, nobody was expired and nobody admitted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let polled = poll_all(&app, &users[..5], &tokens).await;
    assert!(polled.iter().all(|t| t["status"] == "ACTIVE"), "{polled:?}");
    let (_, sixth) = app
        .current_token(&users[5], sixth["token"].as_str().unwrap())
        .await;
    assert_eq!(sixth["status"], "WAITING");
    let (_, overview) = control(&app, concert_id, json!({})).await;
    assert_eq!(
        (overview["active"].as_u64(), overview["waiting"].as_u64()),
        (Some(5), Some(1))
    );
}

async fn pause_stops_admission_on_two_instances_and_resume_admits_in_line_order(backend: Backend) {
    let a = spawn_app_with(backend, |s| s.queue.max_active_per_concert = 3).await;
    let b = a.sibling().await;
    let (status, concert) = create_concert(&a, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let concert_id = concert["concertId"].as_i64().unwrap();
    let (status, body) = control(&a, concert_id, json!({"paused": true})).await;
    assert_eq!(
        (status, body["paused"].as_bool()),
        (StatusCode::OK, Some(true))
    );

    let users = a.users("paused", 6).await;
    let mut tokens = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, token) = app.join_queue(user, concert_id).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            (token["status"].as_str(), token["position"].as_i64()),
            (Some("WAITING"), Some(i as i64 + 1)),
            "paused: nobody is admitted at issue time, on either instance"
        );
        tokens.push(token);
    }
    // Both instances' admitters run every 50 ms: none admits while paused.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for app in [&a, &b] {
        let polled = poll_all(app, &users, &tokens).await;
        assert!(
            polled.iter().all(|t| t["status"] == "WAITING"),
            "{polled:?}"
        );
    }

    let (status, body) = control(&b, concert_id, json!({"paused": false})).await;
    assert_eq!(
        (status, body["paused"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let polled = poll_until(&a, &users, &tokens, "the first three admitted", |p| {
        p.iter().filter(|t| t["status"] == "ACTIVE").count() == 3
    })
    .await;
    let statuses: Vec<&str> = polled
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["ACTIVE", "ACTIVE", "ACTIVE", "WAITING", "WAITING", "WAITING"]
    );
    let positions: Vec<i64> = polled[3..]
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);
}

async fn the_sales_view_counts_seats_and_revenue_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = chrono::Utc::now();
    let (status, concert) = answer(
        app.post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Sales", "venue": "Hall", "schedules": [
                {"startsAt": now + chrono::Duration::hours(2), "seatCount": 10, "price": 3000},
                {"startsAt": now + chrono::Duration::hours(1), "seatCount": 5, "price": 7000},
            ]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{concert}");
    let concert_id = concert["concertId"].as_i64().unwrap();
    let later = concert["schedules"][0]["scheduleId"].as_i64().unwrap();
    let sooner = concert["schedules"][1]["scheduleId"].as_i64().unwrap();
    let user = app.user("buyer").await;
    app.charge(&user, json!(100_000), None).await;
    let token = app.admitted(&user, concert_id).await;
    let mut held = Vec::new();
    for (schedule, number) in [(later, 1), (later, 2), (sooner, 1)] {
        let seat = app
            .seat_id(&user, &token, concert_id, schedule, number)
            .await;
        let (status, body) = app.hold(&user, &token, schedule, seat).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        held.push(body["reservationId"].as_i64().unwrap());
    }
    let (status, _) = app.pay(&user, &token, held[2], None).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, view) = sales(&app, concert_id).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["concertId"], concert_id);
    assert!(view["saleOpensAt"].is_string());
    let schedules = view["schedules"].as_array().unwrap();
    let row = |s: &Value| {
        [
            s["scheduleId"].as_i64(),
            s["totalSeats"].as_i64(),
            s["available"].as_i64(),
            s["held"].as_i64(),
            s["sold"].as_i64(),
            s["revenue"].as_i64(),
        ]
    };
    assert_eq!(
        row(&schedules[0]),
        [Some(sooner), Some(5), Some(4), Some(0), Some(1), Some(7000)]
    );
    assert_eq!(
        row(&schedules[1]),
        [Some(later), Some(10), Some(8), Some(2), Some(0), Some(0)]
    );
    assert_eq!(view["revenue"], 7000);
    // The payment expired the token: nobody ACTIVE, nobody waiting.
    assert_eq!(
        view["queue"],
        json!({"paused": false, "maxActive": 100, "prequeued": 0, "waiting": 0, "active": 0})
    );

    let (status, body) =
        answer(app.get(&format!("/api/v1/admin/concerts/{concert_id}/sales"))).await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "ADMIN_KEY_INVALID");
    let (status, body) = sales(&app, concert_id + 1000).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
}

async fn queue_control_is_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, concert) = create_concert(&app, json!({})).await;
    let concert_id = concert["concertId"].as_i64().unwrap();
    for body in [
        json!({"maxActive": 0}),
        json!({"maxActive": 100_001}),
        json!({"maxActive": "3"}),
        json!({"paused": "yes"}),
    ] {
        let (status, answer) = control(&app, concert_id, body).await;
        assert_code(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        );
    }
    let (status, body) = control(&app, concert_id + 1000, json!({"paused": true})).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = answer(
        app.client
            .patch(format!(
                "{}/api/v1/admin/concerts/{concert_id}/queue",
                app.address
            ))
            .header("X-Admin-Key", "wrong")
            .json(&json!({"paused": true})),
    )
    .await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "ADMIN_KEY_INVALID");
    let (status, body) = control(
        &app,
        concert_id,
        json!({"maxActive": 100_000, "paused": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"concertId": concert_id, "paused": true, "maxActive": 100_000, "prequeued": 0, "waiting": 0, "active": 0})
    );
}
