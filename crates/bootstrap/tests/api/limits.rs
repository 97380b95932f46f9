//! Per-client-IP rate limits on sign-up, login and queue join.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, e2e, spawn_app, spawn_app_with, Backend, TestApp};

e2e!(
    each_limited_endpoint_answers_429_with_retry_after,
    forwarded_for_counts_only_behind_a_trusted_proxy,
    no_limit_by_default,
);

async fn log_in_from(app: &TestApp, forwarded_for: &str) -> Response {
    app.post("/api/v1/auth/token")
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"loginId": "nobody", "password": "password-123"}))
        .send()
        .await
        .unwrap()
}

async fn assert_limited(response: Response) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS").await;
}

async fn each_limited_endpoint_answers_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.limits.signup_per_minute = Some(3);
        s.limits.login_per_minute = Some(4);
        s.limits.join_per_minute = Some(1);
    })
    .await;
    // app.user signs up and logs in: three of each, one left for logins.
    let users = [
        app.user("limited0").await,
        app.user("limited1").await,
        app.user("limited2").await,
    ];
    assert_limited(app.sign_up("limited3", "password-123").await).await;
    assert_eq!(
        app.log_in("limited0", "wrong-password").await.status(),
        StatusCode::UNAUTHORIZED,
        "the fourth login is within the limit"
    );
    assert_limited(app.log_in("limited0", "password-123").await).await;

    let (concert_id, _) = app.concert(&[(3600, 1, 100)]).await;
    let (status, _) = app.join_queue(&users[0], concert_id).await;
    assert_eq!(status, StatusCode::CREATED);
    let refused = app
        .post(&format!("/api/v1/concerts/{concert_id}/queue/tokens"))
        .bearer_auth(&users[1].token)
        .send()
        .await
        .unwrap();
    assert_limited(refused).await;
    // Other endpoints are not limited.
    let (status, _) = app.current_token(&users[0], "unknown-token").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn forwarded_for_counts_only_behind_a_trusted_proxy(backend: Backend) {
    let behind_proxy = spawn_app_with(backend.clone(), |s| {
        s.limits.login_per_minute = Some(1);
        s.limits.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    let first = log_in_from(&behind_proxy, "198.51.100.1").await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    assert_limited(log_in_from(&behind_proxy, "198.51.100.1").await).await;
    // A client-written address before the proxy's own does not help.
    assert_limited(log_in_from(&behind_proxy, "203.0.113.7, 198.51.100.1").await).await;
    let other_client = log_in_from(&behind_proxy, "198.51.100.2").await;
    assert_eq!(other_client.status(), StatusCode::UNAUTHORIZED);

    // From an untrusted peer the header is the client's own claim: ignored.
    let direct = spawn_app_with(backend, |s| s.limits.login_per_minute = Some(1)).await;
    assert_eq!(
        log_in_from(&direct, "198.51.100.1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_limited(log_in_from(&direct, "198.51.100.2").await).await;
}

async fn no_limit_by_default(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..20 {
        // A login id each: the per-login-id failure throttle stays out of the way.
        let response = app
            .post("/api/v1/auth/token")
            .json(&json!({"loginId": format!("nobody{i:02}"), "password": "password-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
