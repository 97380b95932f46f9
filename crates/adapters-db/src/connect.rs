use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
};

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("database.url: unsupported scheme in '{0}' (expected sqlite: or postgres://)")]
    UnsupportedScheme(String),
    #[error("database.url: cannot create the directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// How long the database may keep a request waiting.
#[derive(Debug, Clone, Copy)]
pub struct DbTimeouts {
    /// PostgreSQL `statement_timeout` and `lock_timeout` per session; `None`
    /// for none (migrations may wait for one another's advisory lock).
    pub statement: Option<Duration>,
    /// How long a request may wait for a pooled connection.
    pub acquire: Duration,
}

impl Default for DbTimeouts {
    fn default() -> Self {
        Self {
            statement: None,
            acquire: Duration::from_secs(5),
        }
    }
}

/// Opens a pool for `url`: `sqlite:path` (created if missing) or `postgres://…`,
/// without a statement timeout.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbSetupError> {
    connect_with(url, max_connections, DbTimeouts::default()).await
}

/// Opens a pool for `url` with `timeouts`.
///
/// SQLite gets one connection: it serialises writers anyway, and a single
/// connection turns lock contention into queueing instead of `SQLITE_BUSY`
/// errors mid-transaction. WAL keeps readers of other processes unblocked.
///
/// On PostgreSQL every session gets `statement_timeout` and `lock_timeout`:
/// a statement stuck behind a lock or a stalled server is cancelled by the
/// server and the request answers 503 instead of hanging.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    timeouts: DbTimeouts,
) -> Result<DatabaseConnection, DbSetupError> {
    let mut options = if let Some(path) = sqlite_path(url) {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbSetupError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut options = ConnectOptions::new(with_create_mode(url));
        options.max_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
        options
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections.max(1))
            .min_connections(1);
        if let Some(limit) = timeouts.statement {
            let ms = limit.as_millis().max(1).to_string();
            options.map_sqlx_postgres_opts(move |o| {
                o.options([
                    ("statement_timeout", ms.as_str()),
                    ("lock_timeout", ms.as_str()),
                ])
            });
        }
        options
    } else {
        return Err(DbSetupError::UnsupportedScheme(url.to_owned()));
    };
    // A store that is down must answer quickly (503), never hang a request.
    // No ping before handing out a pooled connection: it would be one more
    // round trip before every statement (a one-statement hold would cost
    // two). A connection that died idle fails its statement instead, which
    // answers 503 with Retry-After, and the pool drops it and reconnects.
    options
        .test_before_acquire(false)
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(timeouts.acquire)
        .sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// Brings the schema of the database at `url` up to date, on a dedicated
/// one-connection pool. On PostgreSQL an advisory lock, held by that one
/// session, makes instances that start together take turns; SQLite already
/// serialises writers.
pub async fn migrate(url: &str) -> Result<(), DbSetupError> {
    let db = connect(url, 1).await?;
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    if postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .await?;
    }
    let result = Migrator::up(&db, None).await;
    if postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .await?;
    }
    db.close().await?;
    Ok(result?)
}

/// Any constant works: it only has to be the same in every instance.
const MIGRATION_LOCK: i64 = 0x0063_6f6e_6365_7274;

/// A cheap round trip for the readiness probe.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The pool's open and idle connections, for the metrics.
pub fn pool_connections(db: &DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => (0, 0),
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://data/app.db"), Some("data/app.db"));
        assert_eq!(
            sqlite_path("sqlite:data/app.db?mode=rwc"),
            Some("data/app.db")
        );
        assert_eq!(sqlite_path("postgres://x"), None);
        assert_eq!(with_create_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
    }
}
