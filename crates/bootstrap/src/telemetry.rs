//! Logs (plain or one JSON object a line) and, with the `otel` cargo
//! feature and `telemetry.otlp_endpoint` set, OpenTelemetry trace export
//! over OTLP/HTTP (protobuf).

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::settings::TelemetrySettings;
use crate::LogFormat;

/// What every layer sits on: the registry, filtered by `RUST_LOG`.
type Base = Layered<EnvFilter, Registry>;
/// One layer of the subscriber (the log format, the trace exporter).
type BoxedLayer = Box<dyn Layer<Base> + Send + Sync>;

/// Keeps the trace exporter alive; dropping it flushes the spans not yet sent.
#[must_use = "dropping the guard stops the trace export"]
pub struct TelemetryGuard {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Logs to stdout; `RUST_LOG` overrides the default level. Request spans
/// carry `request_id`, so every line logged inside a request names it.
pub fn init(format: LogFormat) {
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stdout));
}

/// [`init`], plus the trace export `telemetry` configures. Refuses an OTLP
/// endpoint the binary cannot serve (built without the `otel` feature).
pub fn init_with(
    format: LogFormat,
    telemetry: &TelemetrySettings,
) -> anyhow::Result<TelemetryGuard> {
    let (extra, guard) = exporter(telemetry)?;
    let _ = tracing::subscriber::set_global_default(build(format, std::io::stdout, extra));
    Ok(guard)
}

#[cfg(not(feature = "otel"))]
fn exporter(telemetry: &TelemetrySettings) -> anyhow::Result<(Vec<BoxedLayer>, TelemetryGuard)> {
    if telemetry.otlp_endpoint.is_some() {
        anyhow::bail!(
            "telemetry.otlp_endpoint is set, but this binary was built without the `otel` \
             feature (cargo build --features otel)"
        );
    }
    Ok((Vec::new(), TelemetryGuard {}))
}

#[cfg(feature = "otel")]
fn exporter(telemetry: &TelemetrySettings) -> anyhow::Result<(Vec<BoxedLayer>, TelemetryGuard)> {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    let Some(endpoint) = &telemetry.otlp_endpoint else {
        return Ok((Vec::new(), TelemetryGuard { provider: None }));
    };
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint.as_str())
        .build()
        .map_err(|e| anyhow::anyhow!("telemetry.otlp_endpoint: {e}"))?;
    let service = telemetry
        .service_name
        .clone()
        .unwrap_or_else(|| "concert-server".into());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let layer: BoxedLayer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("concert-server"))
        .boxed();
    Ok((
        vec![layer],
        TelemetryGuard {
            provider: Some(provider),
        },
    ))
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,actix_server=warn")
    })
}

/// The subscriber for `format`, writing to `writer`: plain text, or one JSON
/// object a line with the event's fields at the top level and the fields of
/// every enclosing span (`request_id`, `method`, `route`, …) under `spans`
/// (the innermost also under `span`).
pub fn subscriber<W>(format: LogFormat, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    build(format, writer, Vec::new())
}

fn build<W>(
    format: LogFormat,
    writer: W,
    extra: Vec<BoxedLayer>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt: BoxedLayer = match format {
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
        LogFormat::Plain => {
            // Colours only on a terminal: log files and collectors get plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            fmt.with_target(false).with_ansi(ansi).boxed()
        }
    };
    let mut layers = vec![fmt];
    layers.extend(extra);
    Box::new(Registry::default().with(filter()).with(layers))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_the_request_span_fields() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(LogFormat::Json, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "r-42", route = "/x");
            span.in_scope(|| tracing::info!(status = 200, "request finished"));
            tracing::warn!("outside");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["message"], "request finished");
        assert_eq!(lines[0]["status"], 200);
        assert_eq!(lines[0]["spans"][0]["request_id"], "r-42");
        assert_eq!(lines[0]["spans"][0]["route"], "/x");
        assert_eq!(lines[1]["level"], "WARN");
    }
}
