use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The service's Prometheus metrics, one registry per app instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub reservations: IntCounterVec,
    pub payments: IntCounterVec,
    pub queue_admitted: IntGauge,
    pub queue_waiting: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )
        .expect("valid metric");
        let reservations = IntCounterVec::new(
            Opts::new("reservations_total", "Seat hold attempts by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let payments = IntCounterVec::new(
            Opts::new("payments_total", "Payments by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let queue_admitted = IntGauge::new(
            "queue_admitted_last_tick",
            "Tokens this instance's admitter admitted on its last tick",
        )
        .expect("valid metric");
        let queue_waiting = IntGaugeVec::new(
            Opts::new(
                "queue_waiting",
                "WAITING tokens per concert, as last seen by this instance's admitter",
            ),
            &["concert_id"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(reservations.clone()),
            Box::new(payments.clone()),
            Box::new(queue_admitted.clone()),
            Box::new(queue_waiting.clone()),
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
        self.queue_admitted.set(report.admitted as i64);
        self.queue_waiting.reset();
        for line in &report.lines {
            self.queue_waiting
                .with_label_values(&[&line.concert_id.to_string()])
                .set(line.waiting as i64);
        }
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
