//! Where a test's stores live: SQLite in a temporary directory, PostgreSQL
//! from `TEST_DATABASE_URL` (else a testcontainers instance), Redis from
//! `REDIS_URL`; a missing service skips the variant, except under `CI=true`.
//! The `e2e*` macros run one scenario on each chosen variant.

use sea_orm::{ConnectionTrait, Database};
use tokio::sync::OnceCell;

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

pub(super) fn random_name(prefix: &str) -> String {
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
