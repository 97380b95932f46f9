use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::helpers::{assert_problem, e2e, e2e_on, e2e_postgres, spawn_app, Backend};

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
    let doc: Value = app.get_json("/api-docs/openapi.json").await;
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
        ("/api/v1/admin/concerts/{concertId}/queue", "patch"),
        ("/api/v1/admin/concerts/{concertId}/sales", "get"),
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
    let down = app.get("/api/v1/concerts").send().await.unwrap();
    assert_eq!(
        down.headers()["retry-after"],
        "1",
        "clients are told to back off"
    );
    assert_problem(down, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
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

e2e_on!([sqlite] redis_outage_answers_503_and_heals);

/// A private `redis-server` on a free port, stopped and started by the test.
struct PrivateRedis {
    port: u16,
    process: std::process::Child,
}

impl PrivateRedis {
    fn start(port: u16) -> Option<Self> {
        let process = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Self { port, process });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn redis_outage_answers_503_and_heals(backend: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(mut redis) = PrivateRedis::start(port) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but redis-server cannot be started"
        );
        eprintln!("skipped: redis-server is not installed");
        return;
    };
    let backend = Backend {
        redis: Some(format!("redis://127.0.0.1:{}", redis.port)),
        ..backend
    };
    let app = crate::helpers::spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 1000)]).await;
    let user = app.user("patient").await;
    let token = app.admitted(&user, concert_id).await;

    redis.stop();
    let started = std::time::Instant::now();
    let (status, body) = app.join_queue(&user, concert_id).await;
    crate::helpers::assert_code(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    );
    let (status, body) = app.current_token(&user, &token).await;
    crate::helpers::assert_code(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    );
    let (status, body) = app.seats(&user, &token, concert_id, schedules[0]).await;
    crate::helpers::assert_code(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    );
    assert_eq!(
        app.get("/health/ready").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "four requests in an outage took {:?}: each must answer in about two seconds",
        started.elapsed()
    );
    // What does not need Redis keeps working.
    assert_eq!(
        app.get("/api/v1/concerts").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(app.charge(&user, 100.into(), None).await.0, StatusCode::OK);

    let _restarted = PrivateRedis::start(port).expect("redis-server restarts");
    crate::helpers::eventually("the queue heals without a restart", || async {
        app.join_queue(&user, concert_id).await.0 == StatusCode::CREATED
    })
    .await;
    assert_eq!(
        app.get("/health/ready").send().await.unwrap().status(),
        StatusCode::OK
    );
}
