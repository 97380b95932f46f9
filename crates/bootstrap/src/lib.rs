//! Wiring: configuration, telemetry, adapters into use cases, background
//! jobs and the HTTP server. The `concert-server` binary is a thin CLI on top.

mod app;
mod clock;
pub mod healthcheck;
mod http_server;
mod jobs;
mod random;
mod seed;
mod settings;
pub mod telemetry;

pub use app::{run_migrations, Application};
pub use settings::{LimitsSettings, LogFormat, QueueBackend, Settings, SettingsError};
