//! The application under test and the requests the scenarios make of it:
//! `spawn_app` on a fresh database, `TestApp`'s per-endpoint helpers.

use std::time::Duration;

use bootstrap::{Application, LogFormat, QueueBackend, Settings};
use reqwest::{RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};

use super::backend::{fresh_database_url, random_name, Backend};

pub const ADMIN_KEY: &str = "test-admin-key";

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub backend: Backend,
}

/// The default test settings: random port, demo data off, an admin key, and
/// a fast admitter so queue tests do not wait long.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::defaults().expect("default settings");
    settings.server.port = 0;
    settings.demo.seed = false;
    settings.database.url = fresh_database_url(&backend.db).await;
    if let Some(url) = &backend.redis {
        settings.queue.backend = QueueBackend::Redis;
        settings.redis.url = url.clone();
        // Tests share one Redis: each gets its own key space.
        settings.redis.key_prefix = format!("{}:", random_name("test-"));
    }
    settings.database.max_connections = 5;
    settings.admin.api_key = Some(ADMIN_KEY.into());
    settings.queue.admit_interval_ms = 50;
    settings.reservation.sweep_interval_ms = 100;
    tweak(&mut settings);
    start(settings, backend).await
}

/// zero2prod's switch: quiet by default; `TEST_LOG=1` shows the servers' logs
/// (`RUST_LOG` filters them), `TEST_LOG=json` as JSON lines.
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| match std::env::var("TEST_LOG").as_deref() {
        Ok("json") => bootstrap::telemetry::init(LogFormat::Json),
        Ok(_) => bootstrap::telemetry::init(LogFormat::Plain),
        Err(_) => {}
    });
}

async fn start(settings: Settings, backend: Backend) -> TestApp {
    init_test_log();
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        settings,
        backend,
    }
}

/// A signed-up, logged-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub login_id: String,
    pub token: String,
}

impl TestApp {
    /// A second instance sharing this one's database (and settings).
    pub async fn sibling(&self) -> TestApp {
        start(self.settings.clone(), self.backend.clone()).await
    }

    /// A direct connection to the test's database, for snapshots no API gives.
    pub async fn db(&self) -> DatabaseConnection {
        Database::connect(self.settings.database.url.as_str())
            .await
            .unwrap()
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.address))
    }

    /// GET `path`: the JSON body (tests check statuses where they matter).
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    /// GET `path` as `user`: the JSON body.
    pub async fn get_json_as(&self, user: &TestUser, path: &str) -> Value {
        let request = self.get(path).bearer_auth(&user.token);
        request.send().await.unwrap().json().await.unwrap()
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.address))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(format!("{}{path}", self.address))
    }

    pub async fn sign_up(&self, login_id: &str, password: &str) -> Response {
        self.post("/api/v1/users")
            .json(&json!({"loginId": login_id, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn log_in(&self, login_id: &str, password: &str) -> Response {
        self.post("/api/v1/auth/token")
            .json(&json!({"loginId": login_id, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn user(&self, login_id: &str) -> TestUser {
        let created = self.sign_up(login_id, "password-123").await;
        assert_eq!(created.status(), StatusCode::CREATED, "sign up {login_id}");
        let login = self.log_in(login_id, "password-123").await;
        let status = login.status();
        let body: Value = login.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "log in {login_id}: {body}");
        TestUser {
            id: body["userId"].as_i64().unwrap(),
            login_id: login_id.into(),
            token: body["accessToken"].as_str().unwrap().into(),
        }
    }

    /// `n` users, signed up and logged in concurrently.
    pub async fn users(&self, prefix: &str, n: usize) -> Vec<TestUser> {
        futures::future::join_all((0..n).map(|i| self.user_owned(format!("{prefix}{i:03}")))).await
    }

    async fn user_owned(&self, login_id: String) -> TestUser {
        self.user(&login_id).await
    }

    /// Creates a concert with one schedule per `(starts_in_secs, seats, price)`;
    /// returns the concert id and the schedule ids.
    pub async fn concert(&self, schedules: &[(i64, i64, i64)]) -> (i64, Vec<i64>) {
        let now = chrono::Utc::now();
        // The API refuses a start in the past: such schedules are created a
        // day ahead and moved back in the database below.
        let api_start = |starts_in: i64| {
            now + chrono::Duration::seconds(if starts_in > 0 { starts_in } else { 86_400 })
        };
        let requested: Vec<i64> = schedules.iter().map(|s| s.0).collect();
        let schedules: Vec<Value> = schedules
            .iter()
            .map(|&(starts_in, seats, price)| {
                json!({"startsAt": api_start(starts_in), "seatCount": seats, "price": price})
            })
            .collect();
        let response = self
            .post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Test concert", "venue": "Test hall", "schedules": schedules}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        let ids = body["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scheduleId"].as_i64().unwrap())
            .collect::<Vec<i64>>();
        let db = self.db().await;
        for (id, starts_in) in ids.iter().zip(&requested) {
            let starts_at = now + chrono::Duration::seconds(*starts_in);
            if api_start(*starts_in) != starts_at {
                db.execute_unprepared(&format!(
                    "UPDATE schedules SET starts_at_ms = {} WHERE id = {id}",
                    starts_at.timestamp_millis()
                ))
                .await
                .unwrap();
            }
        }
        db.close().await.ok();
        (body["concertId"].as_i64().unwrap(), ids)
    }

    /// Joins the queue; returns the status code and body.
    pub async fn join_queue(&self, user: &TestUser, concert_id: i64) -> (StatusCode, Value) {
        answer(
            self.post(&format!("/api/v1/concerts/{concert_id}/queue/tokens"))
                .bearer_auth(&user.token),
        )
        .await
    }

    pub async fn current_token(&self, user: &TestUser, token: &str) -> (StatusCode, Value) {
        answer(
            self.get("/api/v1/queue/tokens/current")
                .bearer_auth(&user.token)
                .header("X-Queue-Token", token),
        )
        .await
    }

    /// Joins the queue and waits (bounded) until admitted; returns the token.
    pub async fn admitted(&self, user: &TestUser, concert_id: i64) -> String {
        let (_, body) = self.join_queue(user, concert_id).await;
        let token = body["token"].as_str().expect("a token").to_owned();
        for _ in 0..200 {
            let (_, current) = self.current_token(user, &token).await;
            if current["status"] == "ACTIVE" {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} was not admitted within 10 s", user.login_id);
    }

    /// With the queue's store down: join, poll and seat map answer 503
    /// `SERVICE_UNAVAILABLE`, readiness says 503, all four within `within`
    /// (an outage is a quick answer, not a hang), and what needs no queue
    /// (the concert list) still answers.
    pub async fn assert_queue_unavailable(
        &self,
        user: &TestUser,
        token: &str,
        concert_id: i64,
        schedule_id: i64,
        within: Duration,
    ) {
        let started = std::time::Instant::now();
        for (status, body) in [
            self.join_queue(user, concert_id).await,
            self.current_token(user, token).await,
            self.seats(user, token, concert_id, schedule_id).await,
        ] {
            super::assert_code(
                status,
                &body,
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
            );
        }
        assert_eq!(
            self.get("/health/ready").send().await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(
            started.elapsed() < within,
            "four requests in an outage took {:?}: each must answer in seconds",
            started.elapsed()
        );
        assert_eq!(
            self.get("/api/v1/concerts").send().await.unwrap().status(),
            StatusCode::OK
        );
    }

    pub async fn seats(
        &self,
        user: &TestUser,
        token: &str,
        concert_id: i64,
        schedule_id: i64,
    ) -> (StatusCode, Value) {
        answer(
            self.get(&format!(
                "/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
            ))
            .bearer_auth(&user.token)
            .header("X-Queue-Token", token),
        )
        .await
    }

    /// The id of seat `number` of a schedule (seat ids are opaque).
    pub async fn seat_id(
        &self,
        user: &TestUser,
        token: &str,
        concert_id: i64,
        schedule_id: i64,
        number: i64,
    ) -> i64 {
        let (status, map) = self.seats(user, token, concert_id, schedule_id).await;
        assert_eq!(status, StatusCode::OK, "{map}");
        map["seats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["seatNumber"] == number)
            .and_then(|s| s["seatId"].as_i64())
            .expect("seat exists")
    }

    pub async fn hold(
        &self,
        user: &TestUser,
        token: &str,
        schedule_id: i64,
        seat_id: i64,
    ) -> (StatusCode, Value) {
        answer(
            self.post("/api/v1/reservations")
                .bearer_auth(&user.token)
                .header("X-Queue-Token", token)
                .json(&json!({"scheduleId": schedule_id, "seatId": seat_id})),
        )
        .await
    }

    pub async fn charge(
        &self,
        user: &TestUser,
        amount: Value,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .post(&format!("/api/v1/users/{}/points/charge", user.id))
            .bearer_auth(&user.token)
            .json(&json!({ "amount": amount }));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        answer(request).await
    }

    pub async fn balance(&self, user: &TestUser) -> i64 {
        let body: Value = self
            .get_json_as(user, &format!("/api/v1/users/{}/points", user.id))
            .await;
        body["balance"].as_i64().unwrap()
    }

    /// The whole history, newest first, following `nextCursor` page by page.
    pub async fn history(&self, user: &TestUser) -> Vec<Value> {
        let path = format!("/api/v1/users/{}/points/history?limit=500", user.id);
        let mut entries = Vec::new();
        let mut page: Value = self.get_json_as(user, &path).await;
        loop {
            entries.extend(page["entries"].as_array().unwrap().iter().cloned());
            let Some(cursor) = page["nextCursor"].as_str() else {
                return entries;
            };
            page = self
                .get_json_as(user, &format!("{path}&after={cursor}"))
                .await;
        }
    }

    pub async fn pay(
        &self,
        user: &TestUser,
        token: &str,
        reservation_id: i64,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .post("/api/v1/payments")
            .bearer_auth(&user.token)
            .header("X-Queue-Token", token)
            .json(&json!({ "reservationId": reservation_id }));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        answer(request).await
    }

    pub async fn reservation(&self, user: &TestUser, id: i64) -> (StatusCode, Value) {
        answer(
            self.get(&format!("/api/v1/reservations/{id}"))
                .bearer_auth(&user.token),
        )
        .await
    }
}

/// Sends a request: its status and JSON body.
pub async fn answer(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}
