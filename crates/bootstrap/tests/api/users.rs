use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, e2e, spawn_app, Backend};

e2e!(
    sign_up_then_log_in_with_bearer_or_cookie,
    sign_up_rejects_bad_input_and_taken_ids,
    log_in_answers_the_same_for_unknown_user_and_wrong_password,
    five_failed_logins_lock_the_login_id,
    protected_endpoints_require_a_valid_token,
);

async fn sign_up_then_log_in_with_bearer_or_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.sign_up("alice.kim-01", "password-123").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["loginId"], "alice.kim-01");
    let user_id = body["userId"].as_i64().unwrap();

    let login = app.log_in("alice.kim-01", "password-123").await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("access_token="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["userId"], user_id);
    assert_eq!(body["expiresIn"], 3600);
    let token = body["accessToken"].as_str().unwrap();

    let by_bearer = app
        .get(&format!("/api/v1/users/{user_id}/points"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_bearer.status(), StatusCode::OK);
    let by_cookie = app
        .get(&format!("/api/v1/users/{user_id}/points"))
        .header("Cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
}

async fn sign_up_rejects_bad_input_and_taken_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let long_password = "p".repeat(129);
    let cases = [
        json!({"loginId": "abc", "password": "password-123"}),
        json!({"loginId": "a".repeat(33), "password": "password-123"}),
        json!({"loginId": "bad id", "password": "password-123"}),
        json!({"loginId": "bad/id", "password": "password-123"}),
        json!({"loginId": "good_id", "password": "short"}),
        json!({"loginId": "good_id", "password": long_password}),
        json!({"loginId": "good_id"}),
        json!({"loginId": 1234, "password": "password-123"}),
        json!([]),
    ];
    for body in cases {
        let response = app.post("/api/v1/users").json(&body).send().await.unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
    let malformed = app
        .post("/api/v1/users")
        .header("content-type", "application/json")
        .body("{\"loginId\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let oversized = app
        .post("/api/v1/users")
        .json(&json!({"loginId": "x".repeat(17 * 1024), "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_problem(
        oversized,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;

    assert_eq!(
        app.sign_up("taken", "password-123").await.status(),
        StatusCode::CREATED
    );
    assert_problem(
        app.sign_up("taken", "other-password").await,
        StatusCode::CONFLICT,
        "LOGIN_ID_TAKEN",
    )
    .await;
}

async fn log_in_answers_the_same_for_unknown_user_and_wrong_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user("bobby").await;
    let wrong: Value = app
        .log_in("bobby", "wrong-password")
        .await
        .json()
        .await
        .unwrap();
    let unknown: Value = app
        .log_in("nobody", "wrong-password")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["code"], "INVALID_CREDENTIALS");
    assert_eq!(wrong, unknown);
    assert_problem(
        app.log_in("bobby", "x").await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
}

async fn five_failed_logins_lock_the_login_id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user("carol").await;
    for _ in 0..5 {
        assert_problem(
            app.log_in("carol", "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    let locked = app.log_in("carol", "password-123").await;
    assert!(locked.headers().contains_key("retry-after"));
    assert_problem(locked, StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS").await;
    // Another login id is not affected.
    app.user("dave").await;
    assert_eq!(
        app.log_in("dave", "password-123").await.status(),
        StatusCode::OK
    );
}

async fn protected_endpoints_require_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("erin").await;
    let path = format!("/api/v1/users/{}/points", user.id);
    assert_problem(
        app.get(&path).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    for token in ["garbage", "a.b.c", &format!("{}x", user.token)] {
        let response = app.get(&path).bearer_auth(token).send().await.unwrap();
        assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // A token from another deployment (another secret) is refused too.
    let other = spawn_app(Backend::sqlite().await.unwrap()).await;
    let foreign = other.user("erin").await;
    let response = app
        .get(&path)
        .bearer_auth(&foreign.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}
