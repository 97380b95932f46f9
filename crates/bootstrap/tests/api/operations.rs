use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::helpers::{assert_problem, e2e, e2e_on, e2e_postgres, spawn_app, Backend};

e2e!(
    health_metrics_and_request_ids,
    json_is_gzipped_for_clients_that_accept_it,
    cors_is_off_by_default_and_allows_configured_origins,
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
            r#"concert_http_requests_total{method="GET",route="/api/v1/concerts",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains("concert_http_request_duration_seconds_bucket"));
    assert!(text.contains("concert_build_info{version="), "{text}");
    assert!(text.contains("# TYPE concert_queue_admitted_total counter"));
    // The admitter ticks every 50 ms in tests and records the pool as it goes.
    crate::helpers::eventually("pool metrics", || async {
        let text = app
            .get("/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.contains(r#"concert_db_pool_connections{state="idle"}"#)
    })
    .await;
    let unprefixed: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("concert_"))
        .collect();
    assert!(unprefixed.is_empty(), "{unprefixed:?}");
}

async fn json_is_gzipped_for_clients_that_accept_it(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..30 {
        app.concert(&[(3600, 1, 100)]).await;
    }
    let gzipped = app
        .get("/api/v1/concerts")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let compressed = gzipped.bytes().await.unwrap();
    assert_eq!(&compressed[..2], &[0x1f, 0x8b], "a gzip stream");
    let plain = app.get("/api/v1/concerts").send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(
        compressed.len() < plain.len(),
        "{} vs {}",
        compressed.len(),
        plain.len()
    );
}

async fn cors_is_off_by_default_and_allows_configured_origins(backend: Backend) {
    let preflight = |app: &crate::helpers::TestApp, origin: &str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/reservations", app.address),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, x-queue-token",
            )
            .send()
    };
    let closed = spawn_app(backend.clone()).await;
    let answer = closed
        .get("/api/v1/concerts")
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let answer = preflight(&closed, "https://shop.example").await.unwrap();
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let open = crate::helpers::spawn_app_with(backend, |s| {
        s.cors.allowed_origins = vec!["https://shop.example".into()];
    })
    .await;
    let answer = preflight(&open, "https://shop.example").await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let simple = open
        .get("/api/v1/concerts")
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let stranger = open
        .get("/api/v1/concerts")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

/// The served document is the reviewed `docs/openapi.json`, every path,
/// status and schema of it (the route list in adapters-http produces both the
/// routes and the document; its unit test keeps the file current).
async fn openapi_documents_every_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app.get_json("/api-docs/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let reviewed: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json"))
        .expect("docs/openapi.json is JSON");
    assert!(
        doc == reviewed,
        "the served document differs from docs/openapi.json"
    );
    let seats = &doc["paths"]["/api/v1/concerts/{concertId}/schedules/{scheduleId}/seats"]["get"]
        ["responses"];
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
    let alice = app.user("alice").await;
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
    // Through the Idempotency-Key wrapper too, on both money endpoints.
    for request in [
        app.post(&format!("/api/v1/users/{}/points/charge", alice.id))
            .json(&serde_json::json!({"amount": 100})),
        app.post("/api/v1/payments")
            .header("X-Queue-Token", "t")
            .json(&serde_json::json!({"reservationId": 1})),
    ] {
        let keyed = request
            .bearer_auth(&alice.token)
            .header("Idempotency-Key", "during-outage")
            .send()
            .await
            .unwrap();
        assert_eq!(keyed.headers()["retry-after"], "1");
        assert_problem(
            keyed,
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
        )
        .await;
    }
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
    // The outage left no claim behind: the same key now runs.
    let (status, body) = app
        .charge(&alice, serde_json::json!(100), Some("during-outage"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.balance(&alice).await, 100);
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
    app.assert_queue_unavailable(
        &user,
        &token,
        concert_id,
        schedules[0],
        std::time::Duration::from_secs(8),
    )
    .await;
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
