//! Hostile input never reaches a store: NUL in JSON strings, bodies that
//! never finish.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{assert_problem, e2e, spawn_app, spawn_app_with, Backend, ADMIN_KEY};

e2e!(
    nul_in_any_json_string_is_400_everywhere,
    a_body_that_never_finishes_gets_408,
    a_token_whose_user_is_gone_is_401_everywhere,
    a_wrong_method_is_405_with_allow,
    a_schedule_in_the_past_or_absurd_years_is_400
);

async fn nul_in_any_json_string_is_400_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let nul = r#""ab\u0000cd""#;
    let cases = [
        (
            "/api/v1/users".to_owned(),
            format!(r#"{{"loginId":{nul},"password":"password-123"}}"#),
        ),
        (
            "/api/v1/auth/token".to_owned(),
            format!(r#"{{"loginId":{nul},"password":"wrong-password"}}"#),
        ),
        (
            "/api/v1/admin/concerts".to_owned(),
            format!(
                r#"{{"title":{nul},"venue":"v","schedules":[{{"startsAt":"2030-01-01T00:00:00Z","seatCount":1,"price":1000}}]}}"#
            ),
        ),
        (
            "/api/v1/admin/concerts".to_owned(),
            format!(r#"{{"title":"t","venue":{nul},"schedules":[]}}"#),
        ),
        (
            "/api/v1/reservations".to_owned(),
            format!(r#"{{"scheduleId":1,"seatId":1,"x":[{nul}]}}"#),
        ),
        (
            format!("/api/v1/users/{}/points/charge", alice.id),
            format!(r#"{{"amount":1,{nul}:1}}"#),
        ),
        (
            "/api/v1/payments".to_owned(),
            format!(r#"{{"reservationId":1,"note":{nul}}}"#),
        ),
    ];
    for (path, body) in cases {
        let response = app
            .post(&path)
            .bearer_auth(&alice.token)
            .header("X-Admin-Key", ADMIN_KEY)
            .header("X-Queue-Token", "t")
            .header("Idempotency-Key", "nul-1")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
    // An escaped backslash before "u0000" is ordinary text, stored as sent.
    let response = app
        .post("/api/v1/admin/concerts")
        .header("X-Admin-Key", ADMIN_KEY)
        .header("Content-Type", "application/json")
        .body(r#"{"title":"a\\u0000b","venue":"v","schedules":[{"startsAt":"2030-01-01T00:00:00Z","seatCount":1,"price":1000}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["title"], "a\\u0000b");
}

async fn a_body_that_never_finishes_gets_408(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.body_timeout_ms = 500).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        socket
            .write_all(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"loginId\":",
            )
            .unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                break;
            }
        }
        (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
    })
    .await
    .unwrap();
    let (waited, text) = answer;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
    assert!(waited < Duration::from_secs(5), "answered after {waited:?}");
}

/// A shared JWT secret and a database reset: the token verifies, its user
/// does not exist. Every authenticated endpoint answers 401.
async fn a_token_whose_user_is_gone_is_401_everywhere(backend: Backend) {
    let shared = |s: &mut bootstrap::Settings| s.auth.jwt_secret = Some("shared-secret".into());
    let before = spawn_app_with(backend.clone(), shared).await;
    let alice = before.user("alice").await;
    let after = spawn_app_with(backend, shared).await;
    let (concert_id, schedules) = after.concert(&[(86_400, 2, 1000)]).await;
    let schedule_id = schedules[0];
    let id = alice.id;
    let requests = [
        after.get(&format!("/api/v1/users/{id}/points")),
        after.get(&format!("/api/v1/users/{id}/points/history")),
        after
            .post(&format!("/api/v1/users/{id}/points/charge"))
            .json(&serde_json::json!({"amount": 100})),
        after
            .post(&format!("/api/v1/users/{id}/points/charge"))
            .header("Idempotency-Key", "k")
            .json(&serde_json::json!({"amount": 100})),
        after.post(&format!("/api/v1/concerts/{concert_id}/queue/tokens")),
        after.get("/api/v1/queue/tokens/current"),
        after.get(&format!(
            "/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
        )),
        after
            .post("/api/v1/reservations")
            .json(&serde_json::json!({"scheduleId": schedule_id, "seatId": 1})),
        after.get("/api/v1/reservations"),
        after.get("/api/v1/reservations/1"),
        after.delete("/api/v1/reservations/1"),
        after
            .post("/api/v1/payments")
            .json(&serde_json::json!({"reservationId": 1})),
    ];
    for request in requests {
        let response = request
            .bearer_auth(&alice.token)
            .header("X-Queue-Token", "t")
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // The same token still works where its user exists.
    assert_eq!(before.balance(&alice).await, 0);
}

async fn a_wrong_method_is_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (app.delete("/api/v1/users"), "POST"),
        (app.get("/api/v1/payments"), "POST"),
        (
            app.client
                .put(format!("{}/api/v1/reservations/7", app.address)),
            "GET, DELETE",
        ),
        (app.post("/api/v1/concerts"), "GET"),
    ];
    for (request, allow) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["allow"], allow);
        assert_problem(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        )
        .await;
    }
    assert_problem(
        app.delete("/api/v1/nowhere").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

async fn a_schedule_in_the_past_or_absurd_years_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = chrono::Utc::now();
    for starts_at in [
        serde_json::json!("+99999-01-01T00:00:00Z"),
        serde_json::json!(now - chrono::Duration::minutes(1)),
        serde_json::json!(now + chrono::Duration::days(365 * 11)),
    ] {
        let response = app
            .post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(
                &serde_json::json!({"title": "t", "venue": "v", "schedules": [
                {"startsAt": starts_at, "seatCount": 1, "price": 1000}]}),
            )
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
}
