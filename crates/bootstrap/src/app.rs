use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App};
use adapters_db::{
    DatabaseConnection, DbConcertRepository, DbIdempotencyStore, DbLoginAttempts, DbPaymentStore,
    DbPointStore, DbQueueStore, DbReservationStore, DbSalesReport, DbSeatRepository,
    DbUserRepository, DbWaitlistStore, HandOver, SeatMapCache,
};
use adapters_http::{
    AppState, Argon2Hasher, HttpLimits, Idempotency, InFlight, JwtAccessTokens, Limiter, Metrics,
    PoolStats, RateLimits, Readiness, SeatMapBodies,
};
use adapters_redis::{RedisConnection, RedisQueueStore};
use application::{
    AdminKey, AdmitQueues, Authenticate, CancelReservation, ChargePoints, ControlQueue,
    CreateConcert, HoldSeat, JoinQueue, JoinWaitlist, KnownUsers, ListConcerts, ListSchedules,
    LogIn, PayReservation, QueueGuard, RecentAdmissions, RefundPayment, RegisterUser, RetryPolicy,
    SweepHolds, ViewPayment, ViewPoints, ViewQueueToken, ViewReservations, ViewSales, ViewSeatMap,
    WaitlistEntries,
};
use async_trait::async_trait;
use domain::payment::refund::RefundPolicy;
use domain::payment::PaymentPolicy;
use domain::ports::{Clock, ConcertRepository, QueueStore, ReservationStore};
use domain::queue::QueuePolicy;
use domain::reservation::HoldPolicy;
use domain::user::LoginThrottle;
use rand::RngCore;
use sea_orm::{ConnectionTrait, DatabaseBackend};
use tokio::sync::watch;

use crate::clock::SystemClock;
use crate::jobs::{spawn_job, Job};
use crate::random::OsRandom;
use crate::seed::seed_demo_catalogue;
use crate::settings::LimitsSettings;
use crate::{QueueBackend, Settings};

/// Connections the background jobs have to themselves on PostgreSQL.
const JOB_POOL_SIZE: u32 = 2;
/// Connections the line (joins and polls, queue in PostgreSQL) has to itself:
/// in a rush, 10,000 joins and their polls wait in this pool, never in front
/// of an admitted buyer's seat map, hold or payment in the request pool.
const LINE_POOL_SIZE: u32 = 3;

/// A built application: bound to its port, jobs started, ready to serve.
pub struct Application {
    port: u16,
    server: Server,
    stop_jobs: watch::Sender<bool>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens the database and brings its schema up to date.
pub async fn run_migrations(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    adapters_db::migrate(&settings.database.url).await?;
    let db = adapters_db::connect_with(
        &settings.database.url,
        settings.database.max_connections,
        settings.database.timeouts(),
    )
    .await?;
    Ok(db)
}

/// Ready when the database, and Redis when the queue lives there, answer.
struct StoresReadiness {
    db: DatabaseConnection,
    redis: Option<RedisConnection>,
}

#[async_trait]
impl Readiness for StoresReadiness {
    async fn ready(&self) -> bool {
        let checks = async {
            let redis_ok = match &self.redis {
                Some(redis) => adapters_redis::ping(redis).await,
                None => true,
            };
            redis_ok && adapters_db::ping(&self.db).await
        };
        tokio::time::timeout(Duration::from_secs(2), checks)
            .await
            .unwrap_or(false)
    }
}

fn rate_limits(settings: &LimitsSettings) -> anyhow::Result<RateLimits> {
    let limiter = |per_minute: Option<u32>| {
        per_minute
            .and_then(NonZeroU32::new)
            .map(Limiter::per_minute)
    };
    Ok(RateLimits {
        sign_up: limiter(settings.signup_per_minute),
        log_in: limiter(settings.login_per_minute),
        join_queue: limiter(settings.join_per_minute),
        trusted_proxies: settings.trusted_proxies()?,
    })
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each port's adapter, opened once and shared by the use cases and the jobs.
struct Ports {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    users: Arc<DbUserRepository>,
    concerts: Arc<dyn ConcertRepository>,
    seat_maps: Arc<SeatMapCache>,
    seats: Arc<DbSeatRepository>,
    queue: Arc<dyn QueueStore>,
    /// The same queue for joins and polls: on a pool of its own when the
    /// queue lives in PostgreSQL (`LINE_POOL_SIZE`).
    line: Arc<dyn QueueStore>,
    /// Set when the queue lives on Redis (readiness pings it).
    redis: Option<RedisConnection>,
    hand_over: HandOver,
    reservations: Arc<dyn ReservationStore>,
    waitlist: Arc<DbWaitlistStore>,
    payments: Arc<DbPaymentStore>,
    points: Arc<DbPointStore>,
}

/// The stores on the migrated database, and the queue where the settings put it.
async fn open_stores(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<Ports> {
    let seat_maps = SeatMapCache::new(Duration::from_millis(
        settings.reservation.seat_map_cache_ms,
    ));
    let (queue, redis): (Arc<dyn QueueStore>, _) = match settings.queue.backend {
        QueueBackend::Database => (Arc::new(DbQueueStore { db: db.clone() }), None),
        QueueBackend::Redis => {
            let redis = adapters_redis::connect(&settings.redis.url)
                .map_err(|e| anyhow::anyhow!("redis.url: {e}"))?;
            let store = RedisQueueStore::new(redis.clone(), settings.redis.key_prefix.clone());
            (Arc::new(store), Some(redis))
        }
    };
    let line: Arc<dyn QueueStore> = match settings.queue.backend {
        QueueBackend::Database if db.get_database_backend() == DatabaseBackend::Postgres => {
            Arc::new(DbQueueStore {
                db: adapters_db::connect_with(
                    &settings.database.url,
                    LINE_POOL_SIZE,
                    settings.database.timeouts(),
                )
                .await?,
            })
        }
        // SQLite keeps its one connection (one writer); Redis has no pool.
        _ => queue.clone(),
    };
    let hand_over = HandOver {
        hold_ttl: chrono::Duration::seconds(settings.reservation.hold_ttl_secs as i64),
        max_holds_per_user: settings.reservation.max_holds_per_user,
    };
    Ok(Ports {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        users: Arc::new(DbUserRepository { db: db.clone() }),
        concerts: Arc::new(DbConcertRepository::new(db.clone())),
        seats: Arc::new(DbSeatRepository {
            db: db.clone(),
            seat_maps: seat_maps.clone(),
        }),
        queue,
        line,
        redis,
        hand_over,
        reservations: Arc::new(DbReservationStore {
            db: db.clone(),
            seat_maps: seat_maps.clone(),
            hand_over,
        }),
        waitlist: Arc::new(DbWaitlistStore { db: db.clone() }),
        payments: Arc::new(DbPaymentStore {
            db: db.clone(),
            seat_maps: seat_maps.clone(),
            hand_over,
        }),
        points: Arc::new(DbPointStore { db: db.clone() }),
        seat_maps,
    })
}

/// The secret access tokens are signed with: the configured one, else one
/// kept in the database so that every instance and restart shares it.
async fn signing_secret(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<String> {
    Ok(match &settings.auth.jwt_secret {
        Some(secret) => secret.expose().to_owned(),
        None => adapters_db::load_or_create_secret(db, "jwt_secret", random_secret).await?,
    })
}

/// The rules the settings choose for the queue.
fn queue_policy(settings: &Settings) -> QueuePolicy {
    QueuePolicy {
        max_active: settings.queue.max_active_per_concert,
        active_ttl: chrono::Duration::seconds(settings.queue.active_ttl_secs as i64),
    }
}

/// Every use case on its ports, with what the HTTP adapter needs beside them.
fn wire_use_cases(
    settings: &Settings,
    ports: &Ports,
    jwt_secret: &str,
) -> anyhow::Result<AppState> {
    let Ports {
        db,
        clock,
        users,
        concerts,
        seats,
        queue,
        line,
        redis,
        reservations,
        waitlist,
        payments,
        points,
        ..
    } = ports;
    let hasher = Arc::new(Argon2Hasher::new(settings.auth.max_concurrent_hashes));
    let tokens = Arc::new(JwtAccessTokens::new(
        jwt_secret.as_bytes(),
        settings.auth.access_ttl_secs,
    ));
    let queue_policy = queue_policy(settings);
    let admin = AdminKey(
        settings
            .admin
            .api_key
            .as_ref()
            .map(|k| k.expose().to_owned()),
    );
    let prequeue_window =
        chrono::Duration::seconds(settings.queue.prequeue_opens_secs.min(i64::MAX as u64) as i64);
    let guard = Arc::new(QueueGuard {
        queue: queue.clone(),
        clock: clock.clone(),
    });
    Ok(AppState {
        register_user: RegisterUser {
            users: users.clone(),
            hasher: hasher.clone(),
            clock: clock.clone(),
        },
        log_in: LogIn {
            users: users.clone(),
            hasher,
            attempts: Arc::new(DbLoginAttempts { db: db.clone() }),
            tokens: tokens.clone(),
            clock: clock.clone(),
            throttle: LoginThrottle::default(),
        },
        authenticate: Authenticate {
            tokens,
            users: users.clone(),
            clock: clock.clone(),
            known: KnownUsers::default(),
        },
        create_concert: CreateConcert {
            concerts: concerts.clone(),
            admin: admin.clone(),
            clock: clock.clone(),
            default_max_tickets_per_user: settings.reservation.max_tickets_per_user,
        },
        list_concerts: ListConcerts {
            concerts: concerts.clone(),
        },
        list_schedules: ListSchedules {
            concerts: concerts.clone(),
            clock: clock.clone(),
        },
        join_queue: JoinQueue {
            concerts: concerts.clone(),
            queue: line.clone(),
            clock: clock.clone(),
            policy: queue_policy,
            prequeue_window,
        },
        view_queue_token: ViewQueueToken {
            concerts: concerts.clone(),
            queue: line.clone(),
            clock: clock.clone(),
            policy: queue_policy,
        },
        view_seat_map: ViewSeatMap {
            concerts: concerts.clone(),
            seats: seats.clone(),
            guard: guard.clone(),
            admitted: RecentAdmissions::new(Duration::from_millis(
                settings.reservation.seat_map_cache_ms,
            )),
            clock: clock.clone(),
            waitlist: waitlist.clone(),
            shown: Default::default(),
        },
        seat_map_bodies: SeatMapBodies::default(),
        join_waitlist: JoinWaitlist {
            concerts: concerts.clone(),
            waitlist: waitlist.clone(),
            clock: clock.clone(),
        },
        waitlist_entries: WaitlistEntries {
            waitlist: waitlist.clone(),
        },
        hold_seat: HoldSeat {
            concerts: concerts.clone(),
            seats: seats.clone(),
            reservations: reservations.clone(),
            guard: guard.clone(),
            clock: clock.clone(),
            policy: HoldPolicy {
                hold_ttl: chrono::Duration::seconds(settings.reservation.hold_ttl_secs as i64),
                max_holds_per_user: settings.reservation.max_holds_per_user,
            },
            retry: HoldSeat::RETRY,
        },
        view_reservations: ViewReservations {
            reservations: reservations.clone(),
            clock: clock.clone(),
        },
        cancel_reservation: CancelReservation {
            reservations: reservations.clone(),
            clock: clock.clone(),
        },
        view_points: ViewPoints {
            points: points.clone(),
        },
        charge_points: ChargePoints {
            points: points.clone(),
            clock: clock.clone(),
            retry: RetryPolicy::default(),
        },
        pay_reservation: PayReservation {
            reservations: reservations.clone(),
            payments: payments.clone(),
            queue: queue.clone(),
            guard,
            clock: clock.clone(),
            retry: RetryPolicy::default(),
            policy: PaymentPolicy {
                max_items: settings.reservation.max_holds_per_user,
            },
        },
        view_payment: ViewPayment {
            payments: payments.clone(),
        },
        refund_payment: RefundPayment {
            payments: payments.clone(),
            points: points.clone(),
            concerts: concerts.clone(),
            clock: clock.clone(),
            retry: RetryPolicy::default(),
            policy: RefundPolicy {
                cutoff: chrono::Duration::seconds(settings.reservation.refund_cutoff_secs as i64),
            },
        },
        idempotency: Idempotency {
            store: Arc::new(DbIdempotencyStore {
                db: db.clone(),
                takeover_after: chrono::Duration::seconds(
                    settings.idempotency.takeover_after_secs as i64,
                ),
            }),
            clock: clock.clone(),
        },
        control_queue: ControlQueue {
            concerts: concerts.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
            policy: queue_policy,
            admin: admin.clone(),
        },
        view_sales: ViewSales {
            concerts: concerts.clone(),
            queue: queue.clone(),
            sales: Arc::new(DbSalesReport { db: db.clone() }),
            clock: clock.clone(),
            policy: queue_policy,
            admin: admin.clone(),
        },
        admin: admin.clone(),
        readiness: Arc::new(StoresReadiness {
            db: db.clone(),
            redis: redis.clone(),
        }),
        metrics: Metrics::new(),
        timeouts: HttpLimits {
            request_timeout: Duration::from_millis(settings.server.request_timeout_ms),
            body_timeout: Duration::from_millis(settings.server.body_timeout_ms),
        },
        in_flight: InFlight::new(settings.server.max_requests_in_flight),
        limits: rate_limits(&settings.limits)?,
    })
}

/// The background jobs' view of the stores. On PostgreSQL the jobs get a
/// small pool of their own, so that admission and sweeping keep going when a
/// rush saturates the request pool. (SQLite keeps its single connection: one
/// writer.)
async fn job_stores(
    settings: &Settings,
    ports: &Ports,
) -> anyhow::Result<(Arc<dyn QueueStore>, Arc<dyn ReservationStore>)> {
    if ports.db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok((ports.queue.clone(), ports.reservations.clone()));
    }
    let jobs_db = adapters_db::connect_with(
        &settings.database.url,
        JOB_POOL_SIZE,
        settings.database.timeouts(),
    )
    .await?;
    let queue: Arc<dyn QueueStore> = match settings.queue.backend {
        QueueBackend::Database => Arc::new(DbQueueStore {
            db: jobs_db.clone(),
        }),
        QueueBackend::Redis => ports.queue.clone(),
    };
    let reservations: Arc<dyn ReservationStore> = Arc::new(DbReservationStore {
        db: jobs_db,
        seat_maps: ports.seat_maps.clone(),
        hand_over: ports.hand_over,
    });
    Ok((queue, reservations))
}

/// The running jobs and the switch that stops them.
struct Jobs {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts the queue admitter (which also records the pool's gauges) and the
/// hold sweeper.
async fn start_jobs(settings: &Settings, ports: &Ports, metrics: Metrics) -> anyhow::Result<Jobs> {
    let (queue, reservations) = job_stores(settings, ports).await?;
    let (stop, stopped) = watch::channel(false);
    let admitter = Arc::new(AdmitQueues {
        concerts: ports.concerts.clone(),
        queue,
        clock: ports.clock.clone(),
        policy: queue_policy(settings),
        rng: Arc::new(OsRandom),
    });
    let sweeper = Arc::new(SweepHolds {
        reservations,
        clock: ports.clock.clone(),
        batch: 500,
    });
    let pool_db = ports.db.clone();
    let handles = vec![
        spawn_job(
            Job::new("queue-admitter", settings.queue.admit_interval_ms),
            stopped.clone(),
            move || {
                let (admitter, metrics) = (admitter.clone(), metrics.clone());
                let (open, idle) = adapters_db::pool_connections(&pool_db);
                metrics.observe_pool(PoolStats { open, idle });
                async move {
                    let report = admitter.tick().await?;
                    metrics.observe_admission(&report);
                    Ok(report.admitted)
                }
            },
        ),
        spawn_job(
            Job::new("hold-sweeper", settings.reservation.sweep_interval_ms),
            stopped,
            move || {
                let sweeper = sweeper.clone();
                async move { sweeper.tick().await }
            },
        ),
    ];
    Ok(Jobs { stop, handles })
}

/// Binds the listener and starts the HTTP server on it; returns the bound port.
fn serve_http(settings: &Settings, state: web::Data<AppState>) -> anyhow::Result<(u16, Server)> {
    let listener = crate::http_server::bind(&settings.server.host, settings.server.port)?;
    let port = listener.local_addr()?.port();
    let origins = settings.cors.allowed_origins.clone();
    let metrics = crate::http_server::metrics_listener(settings, &state.metrics)?;
    let elsewhere = metrics.is_some();
    let max_connections = settings.server.max_connections;
    let server = crate::http_server::serve(listener, metrics, max_connections, move || {
        App::new()
            .wrap(adapters_http::cors(&origins))
            .configure(crate::http_server::metrics_elsewhere(elsewhere))
            .configure(adapters_http::configure(state.clone()))
    })?;
    Ok((port, server))
}

impl Application {
    /// Connects and migrates, opens the stores, wires the use cases, starts
    /// the jobs and the server, in that order.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = run_migrations(&settings).await?;
        let jwt_secret = signing_secret(&settings, &db).await?;
        let ports = open_stores(&settings, &db).await?;
        if settings.demo.seed {
            seed_demo_catalogue(
                &db,
                ports.concerts.as_ref(),
                settings.reservation.max_tickets_per_user,
                ports.clock.now(),
            )
            .await?;
        }
        let state = web::Data::new(wire_use_cases(&settings, &ports, &jwt_secret)?);
        let jobs = start_jobs(&settings, &ports, state.metrics.clone()).await?;
        let (port, server) = serve_http(&settings, state)?;
        Ok(Self {
            port,
            server,
            stop_jobs: jobs.stop,
            jobs: jobs.handles,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT: in-flight requests drain, then jobs stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.stop_jobs.send(true);
        for job in self.jobs {
            let _ = job.await;
        }
        tracing::info!("stopped");
        result
    }
}
