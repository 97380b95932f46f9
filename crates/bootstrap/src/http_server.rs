//! The HTTP server: what `actix_web::HttpServer::listen` builds, on
//! connections wrapped in [`adapters_http::ProblemIo`], so that the errors
//! actix-http's parser answers before any route runs (400, 408, 431) are
//! problem+json like every other error. Optionally `/metrics` on a port of
//! its own.

use std::fmt;
use std::net::TcpListener;

use actix_http::body::MessageBody;
use actix_http::{HttpService, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt,
};
use actix_web::dev::AppConfig;
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpResponse};
use adapters_http::{Metrics, ProblemIo};

/// How long in-flight requests may drain after SIGTERM.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// Serves `app` on `listener` (and, when given, `/metrics` alone on
/// `metrics`), with actix-web's defaults: one worker per core, 5 s for a
/// request head, keep-alive, SIGTERM/SIGINT drain; at most `max_connections`
/// open at once (split over the workers).
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    metrics: Option<(TcpListener, Metrics)>,
    max_connections: usize,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let mut builder = Server::build()
        .workers(workers)
        .max_concurrent_connections(max_connections.div_ceil(workers).max(1))
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS);
    // On SIGTERM, idle keep-alive connections close at once (as HttpServer does).
    let shutdown = builder.graceful_shutdown_signal();
    builder = builder.listen(format!("concert-http-{addr}"), listener, move || {
        let factory = app()
            .into_factory()
            .map_err(|err| err.into().error_response());
        let shutdown = shutdown.clone();
        let http = HttpService::build()
            .graceful_shutdown_signal(move || {
                let signal = shutdown.clone();
                async move { signal.notified().await }
            })
            .local_addr(addr)
            .h1(map_config(factory, |_| AppConfig::default()));
        fn_service(|io: TcpStream| async move {
            let peer = io.peer_addr().ok();
            let _ = io.set_nodelay(true);
            Ok((ProblemIo::new(io), peer))
        })
        .and_then(http)
    })?;
    if let Some((listener, metrics)) = metrics {
        let addr = listener.local_addr()?;
        builder = builder.listen(format!("concert-metrics-{addr}"), listener, move || {
            let metrics = metrics.clone();
            let app = App::new().route(
                "/metrics",
                web::get().to(move || {
                    let body = metrics.render();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(body)
                    }
                }),
            );
            HttpService::build()
                .local_addr(addr)
                .h1(map_config(app, |_| AppConfig::default()))
                .tcp()
        })?;
    }
    Ok(builder.run())
}

/// When `/metrics` has a port of its own, the main port answers 404 for it
/// (registered ahead of the application's routes).
pub fn metrics_elsewhere(elsewhere: bool) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        if elsewhere {
            cfg.route(
                "/metrics",
                web::to(|| async {
                    actix_web::ResponseError::error_response(
                        &adapters_http::ApiError::RouteNotFound(
                            "/metrics is served on the metrics port".into(),
                        ),
                    )
                }),
            );
        }
    }
}

/// The listener for `/metrics` when `server.metrics_port` is set.
/// Connections the kernel queues for accept: a sale opens with thousands of
/// buyers connecting at once, and past the queue their SYNs are dropped and
/// retried a second or more later. std's `TcpListener::bind` asks for 128;
/// this is actix's own default (the kernel caps it at `somaxconn`).
const LISTEN_BACKLOG: u32 = 1024;

/// A listening socket on `host:port` with [`LISTEN_BACKLOG`].
pub fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("no address for {host}"),
        )
    })?;
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)?.into_std()
}

pub fn metrics_listener(
    settings: &crate::Settings,
    metrics: &Metrics,
) -> std::io::Result<Option<(TcpListener, Metrics)>> {
    settings
        .server
        .metrics_port
        .map(|port| Ok((bind(&settings.server.host, port)?, metrics.clone())))
        .transpose()
}
