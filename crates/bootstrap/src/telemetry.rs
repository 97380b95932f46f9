use tracing_subscriber::EnvFilter;

/// Logs to stdout; `RUST_LOG` overrides the default level. Request spans
/// carry `request_id`, so every line logged inside a request names it.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
