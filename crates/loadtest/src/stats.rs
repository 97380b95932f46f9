//! Per-endpoint latency histograms and outcome counts, and their report.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are kept in microseconds, from 1 µs to 5 minutes, 3 significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 300_000_000, 3).expect("valid histogram bounds")
}

#[derive(Default)]
struct Endpoint {
    latency: Option<Histogram<u64>>,
    responses: u64,
    ok: u64,
    /// `"409 SEAT_UNAVAILABLE"`, `"503 SERVICE_UNAVAILABLE"`, `"transport timeout"`, …
    errors: BTreeMap<String, u64>,
    /// The first message of each kind of transport error.
    samples: BTreeMap<String, String>,
}

/// Thread-safe recorder shared by every task of one phase.
#[derive(Default)]
pub struct Stats {
    endpoints: Mutex<HashMap<&'static str, Endpoint>>,
}

impl Stats {
    /// A response arrived (any status): its latency counts.
    pub fn record(&self, endpoint: &'static str, latency: Duration, error: Option<String>) {
        let mut map = self.endpoints.lock().expect("stats lock");
        let e = map.entry(endpoint).or_default();
        let micros = (latency.as_micros() as u64).clamp(1, 300_000_000);
        e.latency
            .get_or_insert_with(new_histogram)
            .saturating_record(micros);
        e.responses += 1;
        match error {
            None => e.ok += 1,
            Some(code) => *e.errors.entry(code).or_default() += 1,
        }
    }

    /// No response (connect error, timeout, reset): counted, no latency.
    pub fn record_transport(&self, endpoint: &'static str, kind: &str, message: &str) {
        let mut map = self.endpoints.lock().expect("stats lock");
        let e = map.entry(endpoint).or_default();
        let key = format!("transport {kind}");
        *e.errors.entry(key.clone()).or_default() += 1;
        e.samples.entry(key).or_insert_with(|| message.to_owned());
    }

    /// The report of every endpoint, rates over `elapsed`.
    pub fn report(&self, elapsed: Duration) -> Vec<EndpointReport> {
        let map = self.endpoints.lock().expect("stats lock");
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut out: Vec<EndpointReport> = map
            .iter()
            .map(|(name, e)| {
                let q = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
                let (p50, p95, p99, max, mean) = match &e.latency {
                    Some(h) => (
                        q(h, 0.5),
                        q(h, 0.95),
                        q(h, 0.99),
                        h.max() as f64 / 1000.0,
                        h.mean() / 1000.0,
                    ),
                    None => (0.0, 0.0, 0.0, 0.0, 0.0),
                };
                let transport: u64 = e
                    .errors
                    .iter()
                    .filter(|(k, _)| k.starts_with("transport"))
                    .map(|(_, n)| n)
                    .sum();
                EndpointReport {
                    endpoint: name.to_string(),
                    requests: e.responses + transport,
                    ok: e.ok,
                    requests_per_sec: (e.responses + transport) as f64 / secs,
                    ok_per_sec: e.ok as f64 / secs,
                    p50_ms: p50,
                    p95_ms: p95,
                    p99_ms: p99,
                    max_ms: max,
                    mean_ms: mean,
                    errors: e.errors.clone(),
                    transport_samples: e.samples.clone(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
        out
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReport {
    pub endpoint: String,
    pub requests: u64,
    pub ok: u64,
    pub requests_per_sec: f64,
    pub ok_per_sec: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub errors: BTreeMap<String, u64>,
    pub transport_samples: BTreeMap<String, String>,
}

/// Prints the endpoint table and, below it, the non-2xx outcomes.
pub fn print_table(title: &str, elapsed: Duration, rows: &[EndpointReport]) {
    crate::say!("\n{title} ({:.1} s)", elapsed.as_secs_f64());
    crate::say!(
        "  {:<22} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "endpoint",
        "requests",
        "ok",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms"
    );
    for r in rows {
        crate::say!(
            "  {:<22} {:>8} {:>8} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            r.endpoint,
            r.requests,
            r.ok,
            r.requests_per_sec,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.max_ms
        );
    }
    let errors: Vec<_> = rows
        .iter()
        .flat_map(|r| r.errors.iter().map(move |(k, n)| (&r.endpoint, k, n)))
        .collect();
    if errors.is_empty() {
        crate::say!("  errors: none");
    } else {
        crate::say!("  errors by code:");
        for (endpoint, code, n) in errors {
            crate::say!("    {endpoint:<22} {code:<36} {n:>8}");
        }
        for r in rows {
            for (kind, message) in &r.transport_samples {
                crate::say!("    {} {kind}, e.g.: {message}", r.endpoint);
            }
        }
    }
}

/// A plain distribution of durations (queue waits, round times), in milliseconds.
pub struct Durations(Histogram<u64>);

impl Default for Durations {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, 3_600_000, 3).expect("valid histogram bounds"))
    }
}

impl Durations {
    pub fn record(&mut self, d: Duration) {
        self.0
            .saturating_record((d.as_millis() as u64).clamp(1, 3_600_000));
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// The quantile in seconds (0 when empty).
    pub fn secs(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            0.0
        } else {
            self.0.value_at_quantile(q) as f64 / 1000.0
        }
    }

    pub fn max_secs(&self) -> f64 {
        if self.0.is_empty() {
            0.0
        } else {
            self.0.max() as f64 / 1000.0
        }
    }

    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "count": self.len(),
            "p50Secs": self.secs(0.5),
            "p95Secs": self.secs(0.95),
            "p99Secs": self.secs(0.99),
            "maxSecs": self.max_secs(),
        })
    }
}
