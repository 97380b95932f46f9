//! Configuration: built-in defaults, then `config/local.toml` if present,
//! then `APP__SECTION__KEY` environment variables.

use std::fmt;

use adapters_http::TrustedProxy;
use config::{Config, Environment, File};
use serde::Deserialize;

/// A value that must never be printed (logs, panics, debug output).
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    /// Has no defaults at all: the section may be missing entirely.
    #[serde(default)]
    pub admin: AdminSettings,
    pub queue: QueueSettings,
    pub reservation: ReservationSettings,
    pub demo: DemoSettings,
    pub redis: RedisSettings,
    pub idempotency: IdempotencySettings,
    /// Unset keys mean no limit.
    #[serde(default)]
    pub limits: LimitsSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub cors: CorsSettings,
    /// Unset endpoint: no trace export.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

/// OpenTelemetry trace export (OTLP over HTTP/protobuf); off unless an
/// endpoint is set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TelemetrySettings {
    /// The collector's OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// `service.name` on every exported span; default `concert-server`.
    #[serde(default)]
    pub service_name: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable text.
    Plain,
    /// One JSON object a line, with the span fields (`request_id`, …).
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
}

/// Browser origins allowed to call the API cross-origin; empty: CORS off.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CorsSettings {
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// The longest a request may take, body included; then 503.
    pub request_timeout_ms: u64,
    /// The longest a client may take to send a request body; then 408.
    pub body_timeout_ms: u64,
    /// Requests worked on at once (health probes and `/metrics` aside);
    /// past it, 503 with `Retry-After` at once. Bounds the memory a rush
    /// can pin and the queue for the database pool.
    pub max_requests_in_flight: usize,
    /// Connections held open at once, over all workers; past it, new ones
    /// wait in the kernel's accept queue until one closes. Each open
    /// connection keeps about 16 KiB of buffers: 10,000 buyers connecting at
    /// once were most of a sale's peak memory.
    pub max_connections: usize,
    /// Serve `/metrics` on this port (same host) instead of the main port;
    /// unset: on the main port.
    #[serde(default)]
    pub metrics_port: Option<u16>,
}

impl DatabaseSettings {
    /// The request pools' timeouts.
    pub fn timeouts(&self) -> adapters_db::DbTimeouts {
        adapters_db::DbTimeouts {
            statement: Some(std::time::Duration::from_millis(self.statement_timeout_ms)),
            acquire: std::time::Duration::from_millis(self.acquire_timeout_ms),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    /// Pool size per instance (PostgreSQL; SQLite always uses one connection).
    pub max_connections: u32,
    /// PostgreSQL statement and lock timeout: a request stuck longer answers 503.
    pub statement_timeout_ms: u64,
    /// How long a request may wait for a pooled connection before answering 503.
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Unset: generated once and kept in the database.
    #[serde(default)]
    pub jwt_secret: Option<Secret>,
    pub access_ttl_secs: u64,
    /// Argon2 hashes in flight at once (each holds 19 MiB), whatever the core count.
    pub max_concurrent_hashes: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AdminSettings {
    /// Unset: admin endpoints refuse every request.
    pub api_key: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueBackend {
    Database,
    Redis,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueSettings {
    pub max_active_per_concert: u32,
    pub active_ttl_secs: u64,
    pub admit_interval_ms: u64,
    pub backend: QueueBackend,
    /// How long before a concert's sale opens its pre-queue accepts joiners.
    pub prequeue_opens_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReservationSettings {
    pub hold_ttl_secs: u64,
    pub max_holds_per_user: u32,
    /// A concert's `maxTicketsPerUser` when its creator leaves it out (1–50).
    pub max_tickets_per_user: u32,
    /// How often the background sweeper writes lapsed holds down.
    pub sweep_interval_ms: u64,
    /// How long an instance may serve a schedule's seat rows from memory;
    /// its own writes show at once, other instances' within this. A seat-map
    /// read also trusts a queue admission confirmed within this long. 0 = off.
    pub seat_map_cache_ms: u64,
    /// Refunds close this long before a payment's earliest schedule starts.
    pub refund_cutoff_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    pub seed: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: String,
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdempotencySettings {
    /// How old an unanswered key claim must be before a retry may take it
    /// over (its first run is presumed dead; the fence stops it if not).
    pub takeover_after_secs: u64,
}

/// Per-client-IP abuse limits, each instance counting on its own.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LimitsSettings {
    /// Sign-ups per minute per client address; unset = unlimited.
    pub signup_per_minute: Option<u32>,
    /// Login attempts per minute per client address; unset = unlimited.
    pub login_per_minute: Option<u32>,
    /// Queue joins per minute per client address; unset = unlimited.
    pub join_per_minute: Option<u32>,
    /// Addresses or CIDR blocks of the proxies whose `X-Forwarded-For` names the client
    /// (comma-separated in the environment).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl LimitsSettings {
    /// The proxies, parsed; a bad entry is refused naming the key.
    pub fn trusted_proxies(&self) -> Result<Vec<TrustedProxy>, SettingsError> {
        self.trusted_proxies
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.parse().map_err(|reason| SettingsError::Invalid {
                    key: "limits.trusted_proxies",
                    reason,
                })
            })
            .collect()
    }
}

/// Why the configuration was refused; each names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

const DEFAULTS: &[(&str, &str)] = &[
    ("server.host", "127.0.0.1"),
    ("server.port", "8080"),
    ("server.request_timeout_ms", "30000"),
    ("server.body_timeout_ms", "5000"),
    ("server.max_requests_in_flight", "1024"),
    ("server.max_connections", "4096"),
    ("database.url", "sqlite://data/concert.db"),
    ("database.max_connections", "10"),
    ("database.statement_timeout_ms", "5000"),
    ("database.acquire_timeout_ms", "3000"),
    ("auth.access_ttl_secs", "3600"),
    ("auth.max_concurrent_hashes", "2"),
    ("queue.max_active_per_concert", "100"),
    ("queue.active_ttl_secs", "600"),
    ("queue.admit_interval_ms", "1000"),
    ("queue.backend", "database"),
    ("queue.prequeue_opens_secs", "3600"),
    ("reservation.hold_ttl_secs", "300"),
    ("reservation.max_holds_per_user", "4"),
    ("reservation.max_tickets_per_user", "4"),
    ("reservation.sweep_interval_ms", "1000"),
    ("reservation.seat_map_cache_ms", "200"),
    ("reservation.refund_cutoff_secs", "86400"),
    ("demo.seed", "true"),
    ("redis.url", "redis://127.0.0.1:6379"),
    ("redis.key_prefix", "concert:"),
    ("idempotency.takeover_after_secs", "60"),
    ("log.format", "plain"),
];

fn defaults_builder() -> Result<config::ConfigBuilder<config::builder::DefaultState>, SettingsError>
{
    let mut builder = Config::builder();
    for (key, value) in DEFAULTS {
        builder = builder.set_default(*key, *value)?;
    }
    Ok(builder)
}

impl Settings {
    /// The built-in defaults alone (tests start from these).
    pub fn defaults() -> Result<Self, SettingsError> {
        defaults_builder()?
            .build()?
            .try_deserialize::<Settings>()?
            .validated()
    }

    /// Loads the layered configuration from the working directory and environment.
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = defaults_builder()?
            .add_source(File::with_name("config/local").required(false))
            .add_source(
                Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("limits.trusted_proxies")
                    .with_list_parse_key("cors.allowed_origins"),
            )
            .build()?
            .try_deserialize()?;
        settings.validated()
    }

    /// Checks what types alone cannot; empty secrets count as unset.
    pub fn validated(mut self) -> Result<Self, SettingsError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(SettingsError::Invalid {
                key: "database.url",
                reason: format!("unsupported scheme in '{url}'; use sqlite://path or postgres://…"),
            });
        }
        let positive = [
            (
                "queue.max_active_per_concert",
                u64::from(self.queue.max_active_per_concert),
            ),
            ("queue.active_ttl_secs", self.queue.active_ttl_secs),
            ("queue.admit_interval_ms", self.queue.admit_interval_ms),
            ("reservation.hold_ttl_secs", self.reservation.hold_ttl_secs),
            (
                "reservation.max_holds_per_user",
                u64::from(self.reservation.max_holds_per_user),
            ),
            (
                "reservation.sweep_interval_ms",
                self.reservation.sweep_interval_ms,
            ),
            ("auth.access_ttl_secs", self.auth.access_ttl_secs),
            (
                "auth.max_concurrent_hashes",
                self.auth.max_concurrent_hashes as u64,
            ),
            ("server.request_timeout_ms", self.server.request_timeout_ms),
            ("server.body_timeout_ms", self.server.body_timeout_ms),
            (
                "server.max_requests_in_flight",
                self.server.max_requests_in_flight as u64,
            ),
            ("server.max_connections", self.server.max_connections as u64),
            (
                "idempotency.takeover_after_secs",
                self.idempotency.takeover_after_secs,
            ),
            (
                "database.max_connections",
                u64::from(self.database.max_connections),
            ),
            (
                "database.statement_timeout_ms",
                self.database.statement_timeout_ms,
            ),
            (
                "database.acquire_timeout_ms",
                self.database.acquire_timeout_ms,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(SettingsError::Invalid {
                key,
                reason: "must be greater than 0".into(),
            });
        }
        if !(1..=50).contains(&self.reservation.max_holds_per_user) {
            return Err(SettingsError::Invalid {
                key: "reservation.max_holds_per_user",
                reason: "must be from 1 to 50 (a payment's `reservationIds` documents 50 at most)"
                    .into(),
            });
        }
        if !(1..=50).contains(&self.reservation.max_tickets_per_user) {
            return Err(SettingsError::Invalid {
                key: "reservation.max_tickets_per_user",
                reason: "must be from 1 to 50".into(),
            });
        }
        let limits = [
            ("limits.signup_per_minute", self.limits.signup_per_minute),
            ("limits.login_per_minute", self.limits.login_per_minute),
            ("limits.join_per_minute", self.limits.join_per_minute),
        ];
        if let Some((key, _)) = limits.iter().find(|(_, v)| *v == Some(0)) {
            return Err(SettingsError::Invalid {
                key,
                reason: "must be greater than 0; leave it unset for no limit".into(),
            });
        }
        self.limits.trusted_proxies()?;
        self.auth.jwt_secret = self.auth.jwt_secret.filter(|s| !s.expose().is_empty());
        self.admin.api_key = self.admin.api_key.filter(|s| !s.expose().is_empty());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: environment variables are process-wide.
    #[test]
    fn layered_settings_and_clear_errors() {
        let defaults = Settings::defaults().unwrap();
        assert_eq!(
            (defaults.server.host.as_str(), defaults.server.port),
            ("127.0.0.1", 8080)
        );
        assert_eq!(defaults.queue.backend, QueueBackend::Database);
        assert!(defaults.admin.api_key.is_none() && defaults.auth.jwt_secret.is_none());

        std::env::set_var("APP__SERVER__PORT", "9090");
        std::env::set_var("APP__ADMIN__API_KEY", "k");
        let loaded = Settings::load().unwrap();
        assert_eq!(loaded.server.port, 9090);
        assert_eq!(loaded.admin.api_key.unwrap().expose(), "k");
        assert_eq!(format!("{:?}", Secret::from("hidden")), "Secret(***)");

        std::env::set_var("APP__SERVER__PORT", "abc");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("server.port"), "{err}");
        std::env::remove_var("APP__SERVER__PORT");

        std::env::set_var("APP__DATABASE__URL", "mysql://x");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("database.url"), "{err}");
        std::env::remove_var("APP__DATABASE__URL");
        std::env::remove_var("APP__ADMIN__API_KEY");

        assert!(defaults.limits.login_per_minute.is_none());
        std::env::set_var("APP__LIMITS__LOGIN_PER_MINUTE", "10");
        std::env::set_var("APP__LIMITS__TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1");
        let limited = Settings::load().unwrap();
        assert_eq!(limited.limits.login_per_minute, Some(10));
        assert_eq!(limited.limits.trusted_proxies().unwrap().len(), 2);
        std::env::set_var("APP__LIMITS__TRUSTED_PROXIES", "10.0.0.0/99");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("limits.trusted_proxies"), "{err}");
        std::env::remove_var("APP__LIMITS__TRUSTED_PROXIES");
        std::env::set_var("APP__LIMITS__LOGIN_PER_MINUTE", "0");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("limits.login_per_minute"), "{err}");
        std::env::remove_var("APP__LIMITS__LOGIN_PER_MINUTE");

        assert_eq!(defaults.log.format, LogFormat::Plain);
        assert!(defaults.cors.allowed_origins.is_empty());
        std::env::set_var("APP__LOG__FORMAT", "json");
        std::env::set_var(
            "APP__CORS__ALLOWED_ORIGINS",
            "https://a.example,https://b.example",
        );
        let ops = Settings::load().unwrap();
        assert_eq!(ops.log.format, LogFormat::Json);
        assert_eq!(ops.cors.allowed_origins.len(), 2);
        std::env::set_var("APP__LOG__FORMAT", "xml");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("log.format") || err.contains("xml"), "{err}");
        std::env::remove_var("APP__LOG__FORMAT");
        std::env::remove_var("APP__CORS__ALLOWED_ORIGINS");

        assert_eq!(defaults.server.max_requests_in_flight, 1024);
        std::env::set_var("APP__SERVER__MAX_REQUESTS_IN_FLIGHT", "0");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("server.max_requests_in_flight"), "{err}");
        std::env::remove_var("APP__SERVER__MAX_REQUESTS_IN_FLIGHT");
        assert_eq!(defaults.server.max_connections, 4096);

        assert!(defaults.server.metrics_port.is_none());
        assert!(defaults.telemetry.otlp_endpoint.is_none());
        std::env::set_var("APP__SERVER__METRICS_PORT", "9100");
        std::env::set_var(
            "APP__TELEMETRY__OTLP_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces",
        );
        let observed = Settings::load().unwrap();
        assert_eq!(observed.server.metrics_port, Some(9100));
        assert_eq!(
            observed.telemetry.otlp_endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        std::env::remove_var("APP__SERVER__METRICS_PORT");
        std::env::remove_var("APP__TELEMETRY__OTLP_ENDPOINT");
        std::env::set_var("APP__RESERVATION__MAX_HOLDS_PER_USER", "51");
        let err = Settings::load().unwrap_err().to_string();
        assert!(err.contains("reservation.max_holds_per_user"), "{err}");
        std::env::remove_var("APP__RESERVATION__MAX_HOLDS_PER_USER");
    }
}
