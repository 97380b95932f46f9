//! A `concert-server` process the test starts, kills with SIGKILL and
//! restarts on the same database, plus a small HTTP client for it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

pub const ADMIN_KEY: &str = "fault-admin-key";

/// Where the test's database lives: a fresh one per test.
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    /// A fresh database URL, or `None` (skipped) when PostgreSQL is not
    /// configured outside CI.
    pub async fn fresh(&self) -> Option<String> {
        // The `ct_` prefix: .ci/run drops databases left by earlier runs by it.
        let name = format!("ct_fault_{:016x}", rand::random::<u64>());
        match self {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                Some(format!("sqlite://{}/test.db", dir.display()))
            }
            Db::Postgres => {
                let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "CI=true but TEST_DATABASE_URL is not set"
                    );
                    eprintln!("skipped: TEST_DATABASE_URL is not set");
                    return None;
                };
                let admin = Database::connect(admin_url.as_str()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                Some(url.to_string())
            }
        }
    }
}

/// A running server process.
pub struct Server {
    child: Child,
    pub address: String,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the binary on `db_url` with `env` on top of the test defaults
    /// and waits (bounded) until it is ready.
    pub async fn start(db_url: &str, env: &[(&str, &str)]) -> Server {
        let log = if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        Self::start_logging_to(db_url, env, log).await
    }

    /// As [`Server::start`], with the server's stdout (its log) piped to
    /// [`Server::take_log`].
    pub async fn start_with_log(db_url: &str, env: &[(&str, &str)]) -> Server {
        Self::start_logging_to(db_url, env, Stdio::piped()).await
    }

    /// The piped log of a server started with [`Server::start_with_log`].
    pub fn take_log(&mut self) -> std::process::ChildStdout {
        self.child
            .stdout
            .take()
            .expect("started with its log piped")
    }

    async fn start_logging_to(db_url: &str, env: &[(&str, &str)], log: Stdio) -> Server {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_concert-server"));
        command
            .env("APP__SERVER__PORT", port.to_string())
            .env("APP__DATABASE__URL", db_url)
            .env("APP__DATABASE__MAX_CONNECTIONS", "5")
            .env("APP__DEMO__SEED", "false")
            .env("APP__ADMIN__API_KEY", ADMIN_KEY)
            .env("APP__QUEUE__ADMIT_INTERVAL_MS", "50")
            .stdout(log)
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("concert-server starts");
        let server = Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
        };
        let client = client();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/health/ready", server.address))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "concert-server not ready within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process's peak resident set so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc is readable (Linux)");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// SIGKILL: no drain, no shutdown hooks, whatever was in flight is cut.
    pub fn kill(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A client with a bound on every request: a hang fails the test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The status and JSON body, or `None` when the connection broke.
pub async fn try_answer(request: RequestBuilder) -> Option<(StatusCode, Value)> {
    let response = request.send().await.ok()?;
    let status = response.status();
    let body = response.json().await.ok()?;
    Some((status, body))
}
