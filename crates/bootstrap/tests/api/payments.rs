use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_code, e2e, e2e_queue, spawn_app, spawn_app_with, Backend};

e2e_queue!(
    a_purchase_debits_sells_and_expires_the_token,
    a_payment_judges_the_token_it_is_shown
);
e2e!(
    payment_refusals_change_nothing,
    payment_idempotency_key_replays_after_the_token_expired
);

async fn a_purchase_debits_sells_and_expires_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 30_000)]).await;
    let (buyer, viewer) = (app.user("buyer").await, app.user("viewer").await);
    let token = app.admitted(&buyer, concert_id).await;
    let viewer_token = app.admitted(&viewer, concert_id).await;
    app.charge(&buyer, json!(50_000), None).await;
    let seat = app
        .seat_id(&buyer, &token, concert_id, schedules[0], 2)
        .await;
    let (_, held) = app.hold(&buyer, &token, schedules[0], seat).await;
    let id = held["reservationId"].as_i64().unwrap();

    let (status, paid) = app.pay(&buyer, &token, id, None).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        (
            paid["reservationId"].as_i64(),
            paid["amount"].as_i64(),
            paid["balance"].as_i64()
        ),
        (Some(id), Some(30_000), Some(20_000))
    );
    assert!(paid["paymentId"].is_i64() && paid["paidAt"].is_string());

    assert_eq!(app.balance(&buyer).await, 20_000);
    let history = app.history(&buyer).await;
    assert_eq!(
        (
            history[0]["type"].as_str(),
            history[0]["amount"].as_i64(),
            history[0]["balanceAfter"].as_i64()
        ),
        (Some("PAYMENT"), Some(-30_000), Some(20_000))
    );
    let sum: i64 = history.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
    assert_eq!(sum, 20_000, "the balance is the sum of its history");
    assert_eq!(app.reservation(&buyer, id).await.1["status"], "CONFIRMED");
    let (_, map) = app
        .seats(&viewer, &viewer_token, concert_id, schedules[0])
        .await;
    assert_eq!(map["seats"][1]["status"], "SOLD");
    let (_, current) = app.current_token(&buyer, &token).await;
    assert_eq!(current["status"], "EXPIRED");
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"concert_reservations_total{outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"concert_payments_total{outcome="ok"} 1"#),
        "{metrics}"
    );
    // A confirmed reservation cannot be cancelled.
    let cancel = app
        .delete(&format!("/api/v1/reservations/{id}"))
        .bearer_auth(&buyer.token)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(cancel, StatusCode::CONFLICT, "RESERVATION_NOT_CANCELLABLE")
        .await;
}

async fn payment_refusals_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 30_000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let bob_token = app.admitted(&bob, concert_id).await;
    app.charge(&alice, json!(29_999), None).await;
    let seat = app
        .seat_id(&alice, &token, concert_id, schedules[0], 1)
        .await;
    let (_, held) = app.hold(&alice, &token, schedules[0], seat).await;
    let id = held["reservationId"].as_i64().unwrap();

    let (status, body) = app.pay(&alice, &token, id, None).await;
    assert_code(status, &body, StatusCode::CONFLICT, "INSUFFICIENT_BALANCE");
    let (status, body) = app.pay(&bob, &bob_token, id, None).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app.pay(&alice, &token, 123_456, None).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app.pay(&alice, "bogus", id, None).await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    assert_eq!(app.balance(&alice).await, 29_999);
    assert_eq!(app.reservation(&alice, id).await.1["status"], "HELD");
    assert_eq!(
        app.current_token(&alice, &token).await.1["status"],
        "ACTIVE"
    );

    // Cancelled: not payable.
    app.delete(&format!("/api/v1/reservations/{id}"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    app.charge(&alice, json!(1), None).await;
    let (status, body) = app.pay(&alice, &token, id, None).await;
    assert_code(
        status,
        &body,
        StatusCode::CONFLICT,
        "RESERVATION_NOT_PAYABLE",
    );
    assert_eq!(app.balance(&alice).await, 30_000);
    assert_eq!(app.history(&alice).await.len(), 2);
}

async fn payment_idempotency_key_replays_after_the_token_expired(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 10_000)]).await;
    let user = app.user("retrier").await;
    let token = app.admitted(&user, concert_id).await;
    app.charge(&user, json!(30_000), None).await;
    let seat = app
        .seat_id(&user, &token, concert_id, schedules[0], 3)
        .await;
    let (_, held) = app.hold(&user, &token, schedules[0], seat).await;
    let id = held["reservationId"].as_i64().unwrap();
    let first = app.pay(&user, &token, id, Some("pay-1")).await;
    assert_eq!(first.0, StatusCode::CREATED);
    // The token is now EXPIRED, yet the replay answers first: the original 201.
    assert_eq!(app.pay(&user, &token, id, Some("pay-1")).await, first);
    assert_eq!(app.pay(&user, "any-token", id, Some("pay-1")).await, first);
    let (status, body) = app.pay(&user, &token, id + 1, Some("pay-1")).await;
    assert_code(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(app.balance(&user).await, 20_000);
    assert_eq!(app.history(&user).await.len(), 2);
}

/// The token is judged in the payment's own write when the queue shares its
/// database (through the queue port on Redis): only the payer's ACTIVE token
/// for the reservations' concert pays, a refusal changes nothing, and the
/// payment ends that token (and no other), so it cannot pay a second hold.
async fn a_payment_judges_the_token_it_is_shown(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 2).await;
    let (concert_id, schedules) = app.concert(&[(3600, 4, 10_000)]).await;
    let (other_concert, _) = app.concert(&[(3600, 4, 10_000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let token = app.admitted(&alice, concert_id).await;
    let other = app.admitted(&alice, other_concert).await;
    let bobs = app.admitted(&bob, concert_id).await;
    app.charge(&alice, json!(50_000), None).await;
    let mut ids = Vec::new();
    for number in [1, 2] {
        let seat = app
            .seat_id(&alice, &token, concert_id, schedules[0], number)
            .await;
        let (_, held) = app.hold(&alice, &token, schedules[0], seat).await;
        ids.push(held["reservationId"].as_i64().unwrap());
    }
    for shown in [other.as_str(), bobs.as_str(), "unknown-token"] {
        let (status, body) = app.pay(&alice, shown, ids[0], None).await;
        assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    }
    assert_eq!(app.balance(&alice).await, 50_000);
    assert_eq!(app.reservation(&alice, ids[0]).await.1["status"], "HELD");
    assert_eq!(
        app.current_token(&alice, &token).await.1["status"],
        "ACTIVE"
    );

    let (status, body) = app.pay(&alice, &token, ids[0], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        app.current_token(&alice, &token).await.1["status"],
        "EXPIRED"
    );
    assert_eq!(
        app.current_token(&alice, &other).await.1["status"],
        "ACTIVE"
    );
    let (status, body) = app.pay(&alice, &token, ids[1], None).await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    assert_eq!(app.balance(&alice).await, 40_000);
    assert_eq!(app.reservation(&alice, ids[1]).await.1["status"], "HELD");
    assert_eq!(app.history(&alice).await.len(), 2);
}
