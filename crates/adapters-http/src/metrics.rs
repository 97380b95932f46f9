use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric name starts with this, so the service's series are easy to find.
const PREFIX: &str = "concert";

/// Connections of this instance's database pool, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open in the pool.
    pub open: u32,
    /// Of those, idle ones.
    pub idle: u32,
}

/// The service's Prometheus metrics, one registry per app instance.
///
/// Counters and the latency histogram count this instance's own work, so
/// they sum across instances. The queue gauge is the exception: every
/// instance's admitter sees the same lines, so it is the same global value on
/// every instance; aggregate it with `max by (concert_id)`, never `sum`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub reservations: IntCounterVec,
    pub payments: IntCounterVec,
    queue_admitted: IntCounter,
    queue_waiting: IntGaugeVec,
    db_pool: IntGaugeVec,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(PREFIX)
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            opts("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .namespace(PREFIX)
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let reservations = IntCounterVec::new(
            opts("reservations_total", "Seat hold attempts by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let payments =
            IntCounterVec::new(opts("payments_total", "Payments by outcome"), &["outcome"])
                .expect("valid metric");
        let queue_admitted = IntCounter::with_opts(opts(
            "queue_admitted_total",
            "Queue tokens this instance's background admitter admitted",
        ))
        .expect("valid metric");
        let queue_waiting = IntGaugeVec::new(
            opts(
                "queue_waiting_tokens",
                "WAITING tokens per concert at the last admitter tick; a global value \
                 that every instance reports alike: aggregate with max, not sum",
            ),
            &["concert_id"],
        )
        .expect("valid metric");
        let db_pool = IntGaugeVec::new(
            opts(
                "db_pool_connections",
                "This instance's database pool connections by state (PostgreSQL)",
            ),
            &["state"],
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            opts(
                "build_info",
                "Always 1; the running build's version as a label",
            ),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(reservations.clone()),
            Box::new(payments.clone()),
            Box::new(queue_admitted.clone()),
            Box::new(queue_waiting.clone()),
            Box::new(db_pool.clone()),
            Box::new(build_info),
        ] {
            registry
                .register(collector)
                .expect("metric registered once");
        }
        Self {
            registry,
            requests,
            latency,
            reservations,
            payments,
            queue_admitted,
            queue_waiting,
            db_pool,
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Outcome label of a domain result: `ok` or the error code.
    pub fn outcome<T>(result: &Result<T, crate::ApiError>) -> &'static str {
        match result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    /// Records one admitter tick: how many it admitted and who still waits.
    pub fn observe_admission(&self, report: &application::AdmissionReport) {
        self.queue_admitted.inc_by(report.admitted);
        self.queue_waiting.reset();
        for line in &report.lines {
            self.queue_waiting
                .with_label_values(&[&line.concert_id.to_string()])
                .set(line.waiting as i64);
        }
    }

    /// Records the database pool's connections.
    pub fn observe_pool(&self, stats: PoolStats) {
        self.db_pool
            .with_label_values(&["idle"])
            .set(i64::from(stats.idle));
        self.db_pool
            .with_label_values(&["in_use"])
            .set(i64::from(stats.open.saturating_sub(stats.idle)));
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_prefixed_and_build_info_is_one() {
        let metrics = Metrics::new();
        metrics.observe_request("GET", "/x", 200, 0.01);
        metrics.observe_pool(PoolStats { open: 5, idle: 2 });
        let text = metrics.render();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("concert_"), "{line}");
        }
        assert!(text.contains(&format!(
            "concert_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(text.contains(r#"concert_db_pool_connections{state="in_use"} 3"#));
        assert!(text.contains("# TYPE concert_queue_admitted_total counter"));
    }
}
