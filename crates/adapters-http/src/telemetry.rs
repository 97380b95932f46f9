//! Per-request telemetry: an `X-Request-Id` echoed back and carried by the
//! request's root span (tracing-actix-web's `TracingLogger`, with the id,
//! method, route and status as span fields, so every log line inside a
//! request names them), and the request counter and latency histogram.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use rand::RngCore;
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{RootSpanBuilder, TracingLogger};

use crate::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, put in its extensions by [`telemetry`] for the root span.
#[derive(Clone)]
struct RequestId(String);

/// When [`telemetry`] saw the request.
#[derive(Clone, Copy)]
struct Started(Instant);

/// A client's id is kept if it is short and printable; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            rand::thread_rng().fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        })
}

/// The route pattern, not the path: ids must not explode label cardinality.
fn route(req: &ServiceRequest) -> String {
    req.match_pattern().unwrap_or_else(|| "unmatched".into())
}

/// The outer half: the id, the metrics and the `X-Request-Id` answer header.
pub async fn telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let route = route(&req);
    let method = req.method().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(Started(started));
    let mut response = next.call(req).await?;
    let status = response.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status, started.elapsed().as_secs_f64());
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// The inner half: tracing-actix-web's root span for each request (and, with
/// an OpenTelemetry layer installed, the exported server span).
pub fn root_spans() -> TracingLogger<RequestSpan> {
    TracingLogger::new()
}

/// The root span: `request_id`, `method`, `route`, `target` and, at the end,
/// `status` and `latency_ms`, plus the OpenTelemetry conventions
/// (`otel.name`, `otel.kind`; `otel.status_code` ERROR and
/// `exception.message` on a 5xx).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map_or_else(|| request_id(request), |id| id.0.clone());
        let route = route(request);
        let method = request.method().as_str();
        tracing::info_span!(
            "request",
            request_id = %id,
            method = %method,
            route = %route,
            target = %request.path(),
            status = Empty,
            latency_ms = Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            exception.message = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, started, error) = match outcome {
            Ok(response) => (
                response.status(),
                response.request().extensions().get::<Started>().copied(),
                response.response().error().map(ToString::to_string),
            ),
            Err(error) => (
                error.as_response_error().status_code(),
                None,
                Some(error.to_string()),
            ),
        };
        let latency_ms = started.map(|s| s.0.elapsed().as_millis() as u64);
        // Few records: each one re-formats the span's fields for the log.
        span.record("status", status.as_u16());
        if let Some(ms) = latency_ms {
            span.record("latency_ms", ms);
        }
        // OpenTelemetry's rule for server spans: only a 5xx is an error.
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
            if let Some(error) = error {
                span.record("exception.message", error);
            }
        }
        span.in_scope(|| tracing::info!(status = status.as_u16(), latency_ms, "request finished"));
    }
}
