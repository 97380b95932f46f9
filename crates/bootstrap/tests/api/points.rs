use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_code, assert_problem, e2e, spawn_app, Backend};

e2e!(
    charge_and_read_balance_and_history,
    bad_amounts_are_refused_and_change_nothing,
    points_are_private,
    charge_idempotency_key_replays_and_refuses_reuse,
);

async fn charge_and_read_balance_and_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("saver").await;
    assert_eq!(app.balance(&user).await, 0);
    let (status, body) = app.charge(&user, json!(10_000), None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"userId": user.id, "balance": 10_000})
        )
    );
    app.charge(&user, json!(10_000_000), None).await;
    assert_eq!(app.balance(&user).await, 10_010_000);
    let history = app.history(&user).await;
    let lines: Vec<(&str, i64, i64)> = history
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["amount"].as_i64().unwrap(),
                e["balanceAfter"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("CHARGE", 10_000_000, 10_010_000),
            ("CHARGE", 10_000, 10_000)
        ]
    );
    assert!(history[0]["createdAt"].as_str().unwrap().ends_with('Z'));

    // The balance limit: 1,000,000,000.
    for _ in 0..98 {
        assert_eq!(
            app.charge(&user, json!(10_000_000), None).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(app.balance(&user).await, 990_010_000);
    let (status, body) = app.charge(&user, json!(10_000_000), None).await;
    assert_code(
        status,
        &body,
        StatusCode::CONFLICT,
        "BALANCE_LIMIT_EXCEEDED",
    );
    assert_eq!(
        app.charge(&user, json!(9_990_000), None).await.0,
        StatusCode::OK
    );
    assert_eq!(app.balance(&user).await, 1_000_000_000);
}

async fn bad_amounts_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("careful").await;
    app.charge(&user, json!(500), None).await;
    let two_to_63: Value = serde_json::from_str("9223372036854775808").unwrap();
    for amount in [
        json!(0),
        json!(-1),
        json!(10_000_001),
        json!(1.5),
        json!("100"),
        json!(null),
        two_to_63,
        json!(i64::MAX),
    ] {
        let (status, body) = app.charge(&user, amount.clone(), None).await;
        assert_code(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
    }
    let no_amount = app
        .post(&format!("/api/v1/users/{}/points/charge", user.id))
        .bearer_auth(&user.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(no_amount, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(app.balance(&user).await, 500);
    assert_eq!(app.history(&user).await.len(), 1);
}

async fn points_are_private(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    for path in [
        format!("/api/v1/users/{}/points", bob.id),
        format!("/api/v1/users/{}/points/history", bob.id),
    ] {
        assert_problem(
            app.get(&path)
                .bearer_auth(&alice.token)
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
    }
    let response = app
        .post(&format!("/api/v1/users/{}/points/charge", bob.id))
        .bearer_auth(&alice.token)
        .json(&json!({"amount": 100}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_eq!(app.balance(&bob).await, 0);
}

async fn charge_idempotency_key_replays_and_refuses_reuse(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let first = app.charge(&alice, json!(700), Some("charge-1")).await;
    let replay = app.charge(&alice, json!(700), Some("charge-1")).await;
    assert_eq!(first, replay);
    assert_eq!(app.balance(&alice).await, 700);
    let (status, body) = app.charge(&alice, json!(701), Some("charge-1")).await;
    assert_code(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    // Keys belong to their user: bob's "charge-1" is his own.
    assert_eq!(
        app.charge(&bob, json!(5), Some("charge-1")).await.0,
        StatusCode::OK
    );
    // A refusal is kept and replayed too, and the key stays bound to it.
    let refused = app.charge(&alice, json!(0), Some("charge-2")).await;
    assert_code(
        refused.0,
        &refused.1,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        app.charge(&alice, json!(0), Some("charge-2")).await,
        refused
    );
    for key in ["has space", &"k".repeat(256)] {
        let (status, body) = app.charge(&alice, json!(1), Some(key)).await;
        assert_code(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
    }
    assert_eq!(app.balance(&alice).await, 700);
    assert_eq!(app.history(&alice).await.len(), 1);
}
