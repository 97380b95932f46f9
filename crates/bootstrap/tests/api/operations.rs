use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::helpers::{assert_problem, e2e, e2e_postgres, spawn_app, Backend};

e2e!(
    health_metrics_and_request_ids,
    openapi_documents_every_endpoint,
    unknown_routes_are_problems
);
e2e_postgres!(database_outage_answers_503_and_heals);

async fn health_metrics_and_request_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.get("/health/live").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/health/ready").send().await.unwrap().status(),
        StatusCode::OK
    );

    let echoed = app
        .get("/api/v1/concerts")
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42");
    let generated = app.get("/api/v1/concerts").send().await.unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty());

    let metrics = app.get("/metrics").send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/concerts",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

async fn openapi_documents_every_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/users", "post"),
        ("/api/v1/auth/token", "post"),
        ("/api/v1/admin/concerts", "post"),
        ("/api/v1/concerts", "get"),
        ("/api/v1/concerts/{concertId}/schedules", "get"),
        (
            "/api/v1/concerts/{concertId}/schedules/{scheduleId}/seats",
            "get",
        ),
        ("/api/v1/concerts/{concertId}/queue/tokens", "post"),
        ("/api/v1/queue/tokens/current", "get"),
        ("/api/v1/reservations", "post"),
        ("/api/v1/reservations", "get"),
        ("/api/v1/reservations/{reservationId}", "get"),
        ("/api/v1/reservations/{reservationId}", "delete"),
        ("/api/v1/users/{userId}/points", "get"),
        ("/api/v1/users/{userId}/points/charge", "post"),
        ("/api/v1/users/{userId}/points/history", "get"),
        ("/api/v1/payments", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    let seats =
        &paths["/api/v1/concerts/{concertId}/schedules/{scheduleId}/seats"]["get"]["responses"];
    for status in ["200", "401", "403", "404"] {
        assert!(seats.get(status).is_some(), "seat map lacks {status}");
    }
    let swagger = app.get("/swagger-ui/").send().await.unwrap();
    assert_eq!(swagger.status(), StatusCode::OK);
    assert!(swagger.text().await.unwrap().contains("swagger"));
}

async fn unknown_routes_are_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(
        app.get("/api/v1/nope").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

async fn database_outage_answers_503_and_heals(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = url::Url::parse(&app.settings.database.url).unwrap();
    let name = url.path().trim_start_matches('/').to_owned();
    let mut admin_url = url.clone();
    admin_url.set_path("/postgres");
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    // Refuse new connections and cut the existing ones: the database is "down".
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        app.get("/health/ready").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_problem(
        app.get("/api/v1/concerts").send().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "an outage must answer, not hang"
    );
    assert_eq!(
        app.get("/health/live").send().await.unwrap().status(),
        StatusCode::OK
    );

    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    crate::helpers::eventually("the service heals without a restart", || async {
        app.get("/api/v1/concerts").send().await.unwrap().status() == StatusCode::OK
    })
    .await;
}
