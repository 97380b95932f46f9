//! Past `server.max_requests_in_flight`, a request is answered 503 with
//! `Retry-After` at once instead of waiting its turn; the probes still
//! answer, and the bound frees up as requests finish.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::helpers::{assert_problem, e2e, spawn_app_with, Backend, TestApp};

e2e!(requests_past_the_in_flight_bound_are_refused_at_once);

/// The status of `GET /api/v1/concerts`, asked until it is `wanted` (within
/// a second, since the server sees a connection's head asynchronously);
/// the last answer, with how long it took.
async fn concerts_until(app: &TestApp, wanted: StatusCode) -> (reqwest::Response, Duration) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let response = app.get("/api/v1/concerts").send().await.unwrap();
        if response.status() == wanted || Instant::now() > deadline {
            return (response, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn requests_past_the_in_flight_bound_are_refused_at_once(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.max_requests_in_flight = 1;
        // Long, so that the request below stays in flight for the whole test.
        s.server.body_timeout_ms = 60_000;
    })
    .await;
    let (free, _) = concerts_until(&app, StatusCode::OK).await;
    assert_eq!(free.status(), StatusCode::OK);

    // The one request in flight: a head that announces a body that never
    // comes. A GET below may reach the server first and take the one place,
    // and then this request is the one refused: it is sent again until the
    // GETs are the ones refused.
    let address = app.address.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (stuck, refused, took) = loop {
        let mut stuck = tokio::net::TcpStream::connect(&address).await.unwrap();
        stuck
            .write_all(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"loginId\":",
            )
            .await
            .unwrap();
        let (answer, took) = concerts_until(&app, StatusCode::SERVICE_UNAVAILABLE).await;
        if answer.status() == StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            break (stuck, answer, took);
        }
    };
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_problem(
        refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    // At once: not after the stuck request's body timeout, nor a pool timeout.
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    let live = app.get("/health/live").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK, "probes are never refused");
    let ready = app.get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "probes are never refused");

    // The client goes away: its request ends and frees its place.
    drop(stuck);
    let (served, _) = concerts_until(&app, StatusCode::OK).await;
    assert_eq!(served.status(), StatusCode::OK);
}
