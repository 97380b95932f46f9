//! Several seats in one payment, and refunds.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    answer, assert_code, e2e, e2e_queue, spawn_app, spawn_app_with, Backend, TestApp, TestUser,
};

e2e_queue!(two_seats_in_one_payment_then_a_refund);
e2e!(
    a_multi_seat_payment_is_all_or_nothing,
    refund_refusals_and_idempotency,
    a_refund_passes_the_charge_cap,
    concurrent_refunds_refund_once,
);

pub async fn pay_many(
    app: &TestApp,
    user: &TestUser,
    token: Option<&str>,
    ids: &[i64],
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .post("/api/v1/payments")
        .bearer_auth(&user.token)
        .json(&json!({ "reservationIds": ids }));
    if let Some(token) = token {
        request = request.header("X-Queue-Token", token);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    answer(request).await
}

pub async fn refund(
    app: &TestApp,
    user: &TestUser,
    payment_id: i64,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .post(&format!("/api/v1/payments/{payment_id}/refund"))
        .bearer_auth(&user.token);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    answer(request).await
}

pub async fn payment(app: &TestApp, user: &TestUser, payment_id: i64) -> (StatusCode, Value) {
    answer(
        app.get(&format!("/api/v1/payments/{payment_id}"))
            .bearer_auth(&user.token),
    )
    .await
}

/// Holds seats `numbers` of the schedule; returns the reservation ids.
pub async fn hold_seats(
    app: &TestApp,
    user: &TestUser,
    token: &str,
    concert_id: i64,
    schedule_id: i64,
    numbers: &[i64],
) -> Vec<i64> {
    let mut ids = Vec::new();
    for &n in numbers {
        let seat = app.seat_id(user, token, concert_id, schedule_id, n).await;
        let (status, held) = app.hold(user, token, schedule_id, seat).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        ids.push(held["reservationId"].as_i64().unwrap());
    }
    ids
}

fn history_sum(history: &[Value]) -> i64 {
    history.iter().map(|e| e["amount"].as_i64().unwrap()).sum()
}

/// A concert two days away (past the refund cutoff) with seats of 10,000.
async fn setup(app: &TestApp, seats: i64) -> (i64, i64) {
    let (concert_id, schedules) = app.concert(&[(2 * 86_400, seats, 10_000)]).await;
    (concert_id, schedules[0])
}

async fn two_seats_in_one_payment_then_a_refund(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedule) = setup(&app, 5).await;
    let (buyer, viewer) = (app.user("family").await, app.user("viewer").await);
    let token = app.admitted(&buyer, concert_id).await;
    let viewer_token = app.admitted(&viewer, concert_id).await;
    app.charge(&buyer, json!(50_000), None).await;
    let ids = hold_seats(&app, &buyer, &token, concert_id, schedule, &[3, 1]).await;

    let (status, paid) = pay_many(&app, &buyer, Some(&token), &ids, None).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["reservationIds"], json!(ids), "request order");
    assert_eq!(
        (paid["amount"].as_i64(), paid["balance"].as_i64()),
        (Some(20_000), Some(30_000))
    );
    assert!(paid.get("reservationId").is_none(), "{paid}");
    let payment_id = paid["paymentId"].as_i64().unwrap();
    let history = app.history(&buyer).await;
    assert_eq!(history.len(), 2, "one PAYMENT entry for the order");
    assert_eq!(
        (history[0]["type"].as_str(), history[0]["amount"].as_i64()),
        (Some("PAYMENT"), Some(-20_000))
    );
    for id in &ids {
        assert_eq!(app.reservation(&buyer, *id).await.1["status"], "CONFIRMED");
    }
    let (_, map) = app
        .seats(&viewer, &viewer_token, concert_id, schedule)
        .await;
    let statuses: Vec<&str> = map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["SOLD", "AVAILABLE", "SOLD", "AVAILABLE", "AVAILABLE"]
    );
    assert_eq!(
        app.current_token(&buyer, &token).await.1["status"],
        "EXPIRED"
    );

    let (status, view) = payment(&app, &buyer, payment_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "PAID");
    assert_eq!(view["reservationIds"], json!(ids));
    assert!(view["refundedAt"].is_null());

    // No queue token is needed to refund.
    let (status, refunded) = refund(&app, &buyer, payment_id, None).await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    assert_eq!(refunded["status"], "REFUNDED");
    assert_eq!(refunded["balance"], 50_000);
    assert_eq!(refunded["amount"], 20_000);
    assert!(refunded["refundedAt"].is_string());
    assert_eq!(
        payment(&app, &buyer, payment_id).await.1["status"],
        "REFUNDED"
    );
    for id in &ids {
        assert_eq!(app.reservation(&buyer, *id).await.1["status"], "REFUNDED");
    }
    let (_, map) = app
        .seats(&viewer, &viewer_token, concert_id, schedule)
        .await;
    assert!(
        map["seats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "AVAILABLE"),
        "{map}"
    );
    let history = app.history(&buyer).await;
    assert_eq!(
        (
            history[0]["type"].as_str(),
            history[0]["amount"].as_i64(),
            history[0]["balanceAfter"].as_i64()
        ),
        (Some("REFUND"), Some(20_000), Some(50_000))
    );
    assert_eq!(history_sum(&history), 50_000);
    assert_eq!(app.balance(&buyer).await, 50_000);
    // A refunded reservation is never payable again.
    let (status, body) = app.pay(&buyer, &token, ids[0], None).await;
    assert!(
        status == StatusCode::FORBIDDEN || body["code"] == "RESERVATION_NOT_PAYABLE",
        "{body}"
    );
}

async fn a_multi_seat_payment_is_all_or_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 4).await;
    let (concert_id, schedule) = setup(&app, 6).await;
    let (other_concert, other_schedules) = app.concert(&[(2 * 86_400, 2, 10_000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let other_token = app.admitted(&alice, other_concert).await;
    let bob_token = app.admitted(&bob, concert_id).await;
    app.charge(&alice, json!(25_000), None).await;
    let ids = hold_seats(&app, &alice, &token, concert_id, schedule, &[1, 2, 3]).await;
    let elsewhere = hold_seats(
        &app,
        &alice,
        &other_token,
        other_concert,
        other_schedules[0],
        &[1],
    )
    .await;
    let bobs = hold_seats(&app, &bob, &bob_token, concert_id, schedule, &[4]).await;

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"reservationIds": []}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        ),
        (
            json!({"reservationIds": [ids[0], ids[0]]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        ),
        (
            json!({"reservationIds": [ids[0], ids[1], ids[2], elsewhere[0], bobs[0]]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        ),
        (
            json!({"reservationIds": [ids[0], elsewhere[0]]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        ),
        (
            json!({"reservationId": ids[0], "reservationIds": [ids[1]]}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        ),
        (
            json!({"reservationIds": [ids[0], bobs[0]]}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            json!({"reservationIds": [ids[0], 999_999]}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            json!({"reservationIds": ids}),
            StatusCode::CONFLICT,
            "INSUFFICIENT_BALANCE",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer_body) = answer(
            app.post("/api/v1/payments")
                .bearer_auth(&alice.token)
                .header("X-Queue-Token", &token)
                .json(&body),
        )
        .await;
        assert_code(got, &answer_body, status, code);
    }
    // Pay one alone, then an order containing it is refused whole.
    let (status, single) = app.pay(&alice, &token, ids[0], None).await;
    assert_eq!(status, StatusCode::CREATED, "{single}");
    assert!(
        single.get("reservationIds").is_none(),
        "the single-id body keeps its answer: {single}"
    );
    let token = app.admitted(&alice, concert_id).await;
    let (status, body) = pay_many(&app, &alice, Some(&token), &[ids[1], ids[0]], None).await;
    assert_code(
        status,
        &body,
        StatusCode::CONFLICT,
        "RESERVATION_NOT_PAYABLE",
    );
    assert_eq!(app.reservation(&alice, ids[1]).await.1["status"], "HELD");
    assert_eq!(app.balance(&alice).await, 15_000);
    assert_eq!(app.history(&alice).await.len(), 2);
    // One id in the list form: both ids in the answer.
    let (status, one) = pay_many(&app, &alice, Some(&token), &[ids[1]], None).await;
    assert_eq!(status, StatusCode::CREATED, "{one}");
    assert_eq!(
        (one["reservationId"].as_i64(), one["reservationIds"].clone()),
        (Some(ids[1]), json!([ids[1]]))
    );
}

async fn refund_refusals_and_idempotency(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedule) = setup(&app, 4).await;
    let (soon_concert, soon) = app.concert(&[(3_600, 2, 10_000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    app.charge(&alice, json!(100_000), None).await;
    let ids = hold_seats(&app, &alice, &token, concert_id, schedule, &[1, 2]).await;
    let (_, paid) = pay_many(&app, &alice, Some(&token), &ids, None).await;
    let payment_id = paid["paymentId"].as_i64().unwrap();

    let (status, body) = payment(&app, &bob, payment_id).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = refund(&app, &bob, payment_id, None).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = refund(&app, &alice, 999_999, None).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    let first = refund(&app, &alice, payment_id, Some("refund-1")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(
        refund(&app, &alice, payment_id, Some("refund-1")).await,
        first,
        "a replay"
    );
    let (status, body) = refund(&app, &alice, payment_id, Some("refund-2")).await;
    assert_code(status, &body, StatusCode::CONFLICT, "ALREADY_REFUNDED");
    let (status, body) = refund(&app, &alice, payment_id, None).await;
    assert_code(status, &body, StatusCode::CONFLICT, "ALREADY_REFUNDED");
    assert_eq!(app.balance(&alice).await, 100_000);
    assert_eq!(app.history(&alice).await.len(), 3);

    // Within the cutoff of the show: closed.
    let soon_token = app.admitted(&alice, soon_concert).await;
    let soon_ids = hold_seats(&app, &alice, &soon_token, soon_concert, soon[0], &[1]).await;
    let (_, paid) = app.pay(&alice, &soon_token, soon_ids[0], None).await;
    let (status, body) = refund(&app, &alice, paid["paymentId"].as_i64().unwrap(), None).await;
    assert_code(status, &body, StatusCode::CONFLICT, "REFUND_CLOSED");
    assert_eq!(app.balance(&alice).await, 90_000);
}

async fn a_refund_passes_the_charge_cap(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedule) = setup(&app, 2).await;
    let user = app.user("whale").await;
    let token = app.admitted(&user, concert_id).await;
    app.charge(&user, json!(10_000_000), None).await;
    let ids = hold_seats(&app, &user, &token, concert_id, schedule, &[1]).await;
    let (_, paid) = app.pay(&user, &token, ids[0], None).await;
    // Fill the balance to the cap exactly: 9,990,000 + 99 × 10,000,000 + 10,000.
    for _ in 0..99 {
        assert_eq!(
            app.charge(&user, json!(10_000_000), None).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.charge(&user, json!(10_000), None).await.0,
        StatusCode::OK
    );
    assert_eq!(app.balance(&user).await, 1_000_000_000);
    let (status, body) = refund(&app, &user, paid["paymentId"].as_i64().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["balance"], 1_000_010_000);
    let (status, body) = app.charge(&user, json!(1), None).await;
    assert_code(
        status,
        &body,
        StatusCode::CONFLICT,
        "BALANCE_LIMIT_EXCEEDED",
    );
    assert_eq!(history_sum(&app.history(&user).await), 1_000_010_000);
}

async fn concurrent_refunds_refund_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedule) = setup(&app, 2).await;
    let user = app.user("refunder").await;
    let token = app.admitted(&user, concert_id).await;
    app.charge(&user, json!(30_000), None).await;
    let ids = hold_seats(&app, &user, &token, concert_id, schedule, &[1, 2]).await;
    let (_, paid) = pay_many(&app, &user, Some(&token), &ids, None).await;
    let payment_id = paid["paymentId"].as_i64().unwrap();
    let results = join_all((0..20).map(|_| refund(&app, &user, payment_id, None))).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let already = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "ALREADY_REFUNDED")
        .count();
    assert_eq!((ok, already), (1, 19), "{results:?}");
    assert_eq!(app.balance(&user).await, 30_000);
    let history = app.history(&user).await;
    assert_eq!(history.len(), 3);
    assert_eq!(history_sum(&history), 30_000);
}
