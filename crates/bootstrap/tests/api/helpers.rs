//! The test harness: `spawn_app` on a fresh database per test, for each backend.

use std::time::Duration;

use bootstrap::{Application, LogFormat, QueueBackend, Settings};
use reqwest::{RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

pub const ADMIN_KEY: &str = "test-admin-key";

/// Runs a scenario `async fn name(backend: Backend)` once per listed variant:
/// `sqlite`, `postgres`, and with the queue on Redis, `sqlite_redis`, `postgres_redis`.
/// A variant whose services are missing is skipped (a failure under `CI=true`).
macro_rules! e2e_on {
    ($variants:tt $($name:ident),* $(,)?) => {$(
        crate::helpers::e2e_module!($name $variants);
    )*};
}
pub(crate) use e2e_on;

macro_rules! e2e_module {
    ($name:ident [$($variant:ident),*]) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $variant() {
                    if let Some(backend) = crate::helpers::Backend::$variant().await {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}
pub(crate) use e2e_module;

/// On both databases, with the queue in the database.
macro_rules! e2e {
    ($($name:ident),* $(,)?) => { crate::helpers::e2e_on!([sqlite, postgres] $($name),*); };
}
pub(crate) use e2e;

/// On PostgreSQL only: several instances share one database.
macro_rules! e2e_postgres {
    ($($name:ident),* $(,)?) => { crate::helpers::e2e_on!([postgres] $($name),*); };
}
pub(crate) use e2e_postgres;

/// Queue scenarios: both databases, each with the queue in the database and on Redis,
/// and on SQLite with the queue on a local Redis Cluster (see `redis_cluster`).
macro_rules! e2e_queue {
    ($($name:ident),* $(,)?) => {
        crate::helpers::e2e_on!(
            [sqlite, postgres, sqlite_redis, postgres_redis, sqlite_redis_cluster] $($name),*
        );
    };
}
pub(crate) use e2e_queue;

/// Where a test's database lives.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    /// An admin URL of a PostgreSQL server on which each test creates its own database.
    Postgres(String),
}

/// A test's stores: a database, and Redis when the queue lives there.
#[derive(Clone, Debug)]
pub struct Backend {
    pub db: Db,
    pub redis: Option<String>,
}

static POSTGRES: OnceCell<Option<String>> = OnceCell::const_new();

/// A service the tests need but cannot find: skip, except under `CI=true`.
pub fn missing(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {what} is not available"
    );
    eprintln!("skipped: {what} is not available");
}

impl Backend {
    pub async fn sqlite() -> Option<Backend> {
        Some(Backend {
            db: Db::Sqlite,
            redis: None,
        })
    }

    /// PostgreSQL from `TEST_DATABASE_URL`, else a testcontainers instance when a
    /// Docker engine answers.
    pub async fn postgres() -> Option<Backend> {
        let url = POSTGRES.get_or_init(find_postgres).await.clone();
        if url.is_none() {
            missing("PostgreSQL (set TEST_DATABASE_URL or run a Docker engine)");
        }
        url.map(|url| Backend {
            db: Db::Postgres(url),
            redis: None,
        })
    }

    pub async fn sqlite_redis() -> Option<Backend> {
        Self::sqlite().await?.with_redis()
    }

    pub async fn postgres_redis() -> Option<Backend> {
        Self::postgres().await?.with_redis()
    }

    /// The queue on the three-master Redis Cluster the tests start.
    pub async fn sqlite_redis_cluster() -> Option<Backend> {
        Some(Backend {
            redis: Some(crate::redis_cluster::shared_cluster_url().await?),
            ..Self::sqlite().await?
        })
    }

    /// The queue on Redis from `REDIS_URL`.
    fn with_redis(self) -> Option<Backend> {
        match std::env::var("REDIS_URL") {
            Ok(url) => Some(Backend {
                redis: Some(url),
                ..self
            }),
            Err(_) => {
                missing("Redis (set REDIS_URL)");
                None
            }
        }
    }
}

async fn find_postgres() -> Option<String> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return Some(url);
    }
    use testcontainers::runners::AsyncRunner;
    match testcontainers_modules::postgres::Postgres::default()
        .start()
        .await
    {
        Ok(container) => {
            let port = container.get_host_port_ipv4(5432).await.ok()?;
            // Kept for the whole test run; the testcontainers reaper removes it afterwards.
            Box::leak(Box::new(container));
            Some(format!(
                "postgres://postgres:postgres@127.0.0.1:{port}/postgres"
            ))
        }
        Err(_) => None,
    }
}

fn random_name(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// A fresh, empty database for one test.
pub async fn fresh_database_url(db: &Db) -> String {
    match db {
        Db::Sqlite => {
            let dir = std::env::temp_dir().join(random_name("concert-test-"));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}/test.db", dir.display())
        }
        Db::Postgres(admin_url) => {
            let name = random_name("ct_");
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(admin_url).expect("valid TEST_DATABASE_URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

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

/// Asserts a problem+json answer with the given status and code.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
}

/// Asserts a status and `code` on an already-read body.
pub fn assert_code(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

/// Waits (bounded) until `check` holds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}
