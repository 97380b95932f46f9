//! Nothing hangs: a request stuck behind a database lock answers 503 within
//! the statement timeout, and works again once the lock is gone.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use crate::helpers::{assert_problem, e2e_postgres, spawn_app_with, Backend};

e2e_postgres!(a_lock_wait_answers_503_within_the_statement_timeout);

async fn a_lock_wait_answers_503_within_the_statement_timeout(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.database.statement_timeout_ms = 1000).await;
    let alice = app.user("alice").await;
    assert_eq!(app.charge(&alice, json!(100), None).await.0, StatusCode::OK);
    let db = app.db().await;
    let blocker = db.begin().await.unwrap();
    blocker
        .execute_unprepared(&format!(
            "SELECT * FROM balances WHERE user_id = {} FOR UPDATE",
            alice.id
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let stuck = app
        .post(&format!("/api/v1/users/{}/points/charge", alice.id))
        .bearer_auth(&alice.token)
        .header("Idempotency-Key", "behind-a-lock")
        .json(&json!({"amount": 50}))
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(stuck.headers()["retry-after"], "1");
    assert_problem(
        stuck,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "answered after {waited:?}"
    );
    blocker.rollback().await.unwrap();
    // Nothing moved and the key was released: the retry runs.
    let (status, body) = app.charge(&alice, json!(50), Some("behind-a-lock")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.balance(&alice).await, 150);
}
