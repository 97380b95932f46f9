//! A thin HTTP client for the contract's endpoints. Every call is timed and
//! recorded in the `Stats` of the phase it belongs to.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::stats::Stats;

/// One answered request. The body is parsed only when asked for, so that
/// scenarios that do not read it (seat-map) do not spend the load
/// generator's CPU on it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The server's `Retry-After` (in seconds), if it sent one.
    pub retry_after: Option<Duration>,
    /// The answer's `ETag`, if any.
    pub etag: Option<String>,
    raw: Vec<u8>,
    parsed: OnceLock<Value>,
}

impl Reply {
    /// The body as JSON (a string if it is not JSON, null if empty).
    pub fn body(&self) -> &Value {
        self.parsed.get_or_init(|| {
            if self.raw.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&self.raw).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&self.raw).into_owned())
                })
            }
        })
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The problem+json `code`, if any.
    pub fn code(&self) -> &str {
        self.body()
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("-")
    }

    pub fn i64(&self, field: &str) -> anyhow::Result<i64> {
        self.body()
            .get(field)
            .and_then(Value::as_i64)
            .with_context(|| format!("no integer `{field}` in {}", self.body()))
    }

    pub fn str(&self, field: &str) -> anyhow::Result<&str> {
        self.body()
            .get(field)
            .and_then(Value::as_str)
            .with_context(|| format!("no string `{field}` in {}", self.body()))
    }

    /// The body if the status is 2xx, else an error naming the call.
    pub fn into_ok(self, what: &str) -> anyhow::Result<Value> {
        if !self.is_success() {
            bail!("{what}: HTTP {} {}", self.status, self.body());
        }
        self.body();
        Ok(self.parsed.into_inner().unwrap_or_default())
    }
}

/// Calls until the answer is neither "come back later" nor missing: a 429 or
/// 503 with `Retry-After` is retried after the time it names (±20%, at most
/// `max_wait` in all), as the contract asks of clients; a 5xx without it or no
/// answer at all, a few times with a growing pause. The last answer is returned.
pub async fn honouring_retry_after<F, Fut>(max_wait: Duration, mut call: F) -> CallResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = CallResult>,
{
    let started = Instant::now();
    let mut blind_retries = 0u32;
    loop {
        let result = call().await;
        let pause = match &result {
            Ok(reply) if matches!(reply.status, 429 | 503) && reply.retry_after.is_some() => {
                reply.retry_after.unwrap_or_default()
            }
            Ok(reply) if reply.status < 500 => return result,
            _ => {
                blind_retries += 1;
                if blind_retries > 3 {
                    return result;
                }
                Duration::from_millis(250 * u64::from(blind_retries))
            }
        };
        let jitter = 0.8 + rand::random::<f64>() * 0.4;
        let pause = pause.mul_f64(jitter);
        if started.elapsed() + pause > max_wait {
            return result;
        }
        tokio::time::sleep(pause).await;
    }
}

/// No answer: connect error, timeout, reset connection.
#[derive(Debug)]
pub struct Transport(pub String);

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transport error: {}", self.0)
    }
}

impl std::error::Error for Transport {}

pub type CallResult = Result<Reply, Transport>;

/// A signed-in user of the load test.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub login_id: String,
    pub user_id: i64,
    pub access: String,
    /// Points charged during set-up.
    pub charged: i64,
}

/// The client of one phase: shares the connection pool, owns its stats.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    stats: Arc<Stats>,
}

impl Api {
    pub fn new(base_url: &str, request_timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').into(),
            stats: Arc::default(),
        })
    }

    /// The same connection pool, recording into fresh stats.
    pub fn phase(&self) -> Api {
        Api {
            stats: Arc::default(),
            ..self.clone()
        }
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{}", self.base, path))
    }

    /// Sends, reads the whole body, records latency and outcome under `endpoint`.
    pub async fn send(&self, endpoint: &'static str, rb: RequestBuilder) -> CallResult {
        let start = Instant::now();
        let result = async {
            let resp = rb.send().await?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let etag = resp
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, retry_after, etag, bytes))
        }
        .await;
        let latency = start.elapsed();
        match result {
            Ok((status, retry_after, etag, bytes)) => {
                let reply = Reply {
                    status,
                    retry_after,
                    etag,
                    raw: bytes.to_vec(),
                    parsed: OnceLock::new(),
                };
                // 304 Not Modified is a success for a revalidating reader.
                let error = (!reply.is_success() && status != 304).then(|| {
                    let told = if reply.retry_after.is_some() {
                        " (Retry-After)"
                    } else {
                        ""
                    };
                    format!("{} {}{told}", status, reply.code())
                });
                self.stats.record(endpoint, latency, error);
                Ok(reply)
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else if e.is_body() || e.is_decode() {
                    "body"
                } else {
                    "request"
                };
                // The whole chain: reqwest's own message hides the cause.
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                self.stats.record_transport(endpoint, kind, &message);
                Err(Transport(format!("{kind}: {message}")))
            }
        }
    }

    pub async fn health_live(&self) -> CallResult {
        self.send(
            "GET /health/live",
            self.request(Method::GET, "/health/live"),
        )
        .await
    }

    pub async fn sign_up(&self, login_id: &str, password: &str) -> CallResult {
        let rb = self
            .request(Method::POST, "/api/v1/users")
            .json(&json!({"loginId": login_id, "password": password}));
        self.send("POST /users", rb).await
    }

    pub async fn log_in(&self, login_id: &str, password: &str) -> CallResult {
        let rb = self
            .request(Method::POST, "/api/v1/auth/token")
            .json(&json!({"loginId": login_id, "password": password}));
        self.send("POST /auth/token", rb).await
    }

    pub async fn charge(&self, user: &User, amount: i64, idempotency_key: &str) -> CallResult {
        let rb = self
            .request(
                Method::POST,
                &format!("/api/v1/users/{}/points/charge", user.user_id),
            )
            .bearer_auth(&user.access)
            .header("Idempotency-Key", idempotency_key)
            .json(&json!({ "amount": amount }));
        self.send("POST /points/charge", rb).await
    }

    pub async fn balance(&self, user: &User) -> CallResult {
        let rb = self
            .request(
                Method::GET,
                &format!("/api/v1/users/{}/points", user.user_id),
            )
            .bearer_auth(&user.access);
        self.send("GET /points", rb).await
    }

    pub async fn create_concert(&self, admin_key: &str, body: &Value) -> CallResult {
        let rb = self
            .request(Method::POST, "/api/v1/admin/concerts")
            .header("X-Admin-Key", admin_key)
            .json(body);
        self.send("POST /admin/concerts", rb).await
    }

    /// Admin: change a concert's queue controls (`{"maxActive": …}`, `{"paused": …}`).
    pub async fn control_queue(
        &self,
        admin_key: &str,
        concert_id: i64,
        body: &Value,
    ) -> CallResult {
        let rb = self
            .request(
                Method::PATCH,
                &format!("/api/v1/admin/concerts/{concert_id}/queue"),
            )
            .header("X-Admin-Key", admin_key)
            .json(body);
        self.send("PATCH /admin/queue", rb).await
    }

    pub async fn schedules(&self, concert_id: i64) -> CallResult {
        let rb = self.request(
            Method::GET,
            &format!("/api/v1/concerts/{concert_id}/schedules"),
        );
        self.send("GET /schedules", rb).await
    }

    pub async fn join_queue(&self, user: &User, concert_id: i64) -> CallResult {
        let rb = self
            .request(
                Method::POST,
                &format!("/api/v1/concerts/{concert_id}/queue/tokens"),
            )
            .bearer_auth(&user.access);
        self.send("POST /queue/tokens", rb).await
    }

    pub async fn current_token(&self, user: &User, token: &str) -> CallResult {
        let rb = self
            .request(Method::GET, "/api/v1/queue/tokens/current")
            .bearer_auth(&user.access)
            .header("X-Queue-Token", token);
        self.send("GET /queue/tokens/current", rb).await
    }

    pub async fn seat_map(
        &self,
        user: &User,
        token: &str,
        concert_id: i64,
        schedule_id: i64,
    ) -> CallResult {
        self.seat_map_with(user, token, concert_id, schedule_id, &[])
            .await
    }

    /// The seat map with extra request headers (`Accept-Encoding`, `If-None-Match`).
    pub async fn seat_map_with(
        &self,
        user: &User,
        token: &str,
        concert_id: i64,
        schedule_id: i64,
        headers: &[(&'static str, &str)],
    ) -> CallResult {
        let mut rb = self
            .request(
                Method::GET,
                &format!("/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"),
            )
            .bearer_auth(&user.access)
            .header("X-Queue-Token", token);
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        self.send("GET /seats", rb).await
    }

    pub async fn hold(
        &self,
        user: &User,
        token: &str,
        schedule_id: i64,
        seat_id: i64,
    ) -> CallResult {
        let rb = self
            .request(Method::POST, "/api/v1/reservations")
            .bearer_auth(&user.access)
            .header("X-Queue-Token", token)
            .json(&json!({"scheduleId": schedule_id, "seatId": seat_id}));
        self.send("POST /reservations", rb).await
    }

    pub async fn cancel(&self, user: &User, reservation_id: i64) -> CallResult {
        let rb = self
            .request(
                Method::DELETE,
                &format!("/api/v1/reservations/{reservation_id}"),
            )
            .bearer_auth(&user.access);
        self.send("DELETE /reservations/{id}", rb).await
    }

    pub async fn reservations(&self, user: &User) -> CallResult {
        let rb = self
            .request(Method::GET, "/api/v1/reservations")
            .bearer_auth(&user.access);
        self.send("GET /reservations", rb).await
    }

    pub async fn pay(
        &self,
        user: &User,
        token: &str,
        reservation_id: i64,
        idempotency_key: &str,
    ) -> CallResult {
        let rb = self
            .request(Method::POST, "/api/v1/payments")
            .bearer_auth(&user.access)
            .header("X-Queue-Token", token)
            .header("Idempotency-Key", idempotency_key)
            .json(&json!({ "reservationId": reservation_id }));
        self.send("POST /payments", rb).await
    }
}
