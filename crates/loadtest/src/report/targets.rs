//! The targets, each beside what this run measured and whether it is met.
//!
//! Every ratio compares two figures of the same run (the machine is shared
//! and noisy, so only side-by-side figures mean anything).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::{endpoint, num, tsv};

/// The bound the ratio targets ask for (holds, purchases, seat maps).
const RATIO_TARGET: f64 = 0.5;
/// The bound for queue polls on Redis against Redis's own one-command rate.
const POLL_RATIO_TARGET: f64 = 0.4;
/// The peak resident memory every server run must stay under, in MB.
const RSS_TARGET_MB: f64 = 250.0;

/// One row of the table.
struct Row {
    target: String,
    measured: String,
    met: Option<bool>,
}

impl Row {
    fn ratio(target: String, value: f64, baseline: f64, detail: String) -> Self {
        Self::ratio_at_least(RATIO_TARGET, target, value, baseline, detail)
    }

    fn ratio_at_least(
        bound: f64,
        target: String,
        value: f64,
        baseline: f64,
        detail: String,
    ) -> Self {
        let r = value / baseline;
        let known = r.is_finite();
        Row {
            target,
            measured: if known {
                format!("**{r:.2}** ({detail})")
            } else {
                format!("not measured ({detail})")
            },
            met: known.then_some(r >= bound),
        }
    }
}

/// Appends "The targets" to `md`; returns the rows as JSON.
pub fn table(dir: &Path, docs: &Map<String, Value>, md: &mut String) -> Value {
    let get = |name: &str| docs.get(name).map(|d| &d["result"]);
    let mut rows = Vec::new();
    let minimal = tsv(&dir.join("pgbench-min.tsv"));
    let baseline = |kind: &str, c: f64| {
        minimal
            .iter()
            .find(|r| r.len() >= 4 && r[0] == kind && r[1].parse::<f64>().ok() == Some(c))
            .map_or(f64::NAN, |r| r[3].parse().unwrap_or(f64::NAN))
    };
    let level = |scenario: &str, c: f64, field: &str| {
        get(scenario)
            .and_then(|s| s["levels"].as_array())
            .and_then(|ls| ls.iter().find(|l| num(&l["concurrency"]) == c))
            .map_or(f64::NAN, |l| num(&l[field]))
    };
    for c in [8.0, 32.0] {
        let (held, tps) = (level("hold", c, "holdsPerSec"), baseline("hold", c));
        rows.push(Row::ratio(
            format!("holds ≥ 0.5× the minimal one-statement hold (pgbench), c={c}"),
            held,
            tps,
            format!("{held:.0} holds/s against {tps:.0} tps"),
        ));
    }
    for c in [8.0, 32.0] {
        let (orders, tps) = (
            level("purchase", c, "ordersPerSec"),
            baseline("purchase", c),
        );
        rows.push(Row::ratio(
            format!("purchases ≥ 0.5× the minimal hold + pay (pgbench), c={c}"),
            orders,
            tps,
            format!("{orders:.0} orders/s against {tps:.0} tps"),
        ));
    }
    for (file, database) in [
        ("reads-pg.tsv", "PostgreSQL"),
        ("reads-sqlite.tsv", "SQLite"),
    ] {
        let reads = tsv(&dir.join(file));
        let rate = |name: &str| {
            reads
                .iter()
                .find(|r| r.len() >= 2 && r[0] == name)
                .map_or(f64::NAN, |r| r[1].parse().unwrap_or(f64::NAN))
        };
        let health = rate("health");
        for (name, form) in [
            ("map-gzip", "gzip"),
            ("map-304", "If-None-Match → 304"),
            ("map", "identity JSON"),
        ] {
            let map = rate(name);
            rows.push(Row::ratio(
                format!("seat map of 1,000 seats ≥ 0.5× /health/live, c=64, {database}, {form}"),
                map,
                health,
                format!("wrk: {map:.0} against {health:.0} req/s"),
            ));
        }
    }
    if let Some(row) = redis_poll_row(dir) {
        rows.push(row);
    }
    for (name, queue) in [("flash-pg", "PostgreSQL"), ("flash-pg-redis", "Redis")] {
        let Some(sale) = get(name) else { continue };
        rows.push(sale_row(sale, queue));
    }
    for r in tsv(&dir.join("server-rss.tsv")) {
        let (Some(run), Some(mb)) = (r.first(), r.get(1).and_then(|m| m.parse::<f64>().ok()))
        else {
            continue;
        };
        rows.push(Row {
            target: format!("server peak RSS < 250 MB, run `{run}`"),
            measured: format!("{mb:.0} MB"),
            met: Some(mb < RSS_TARGET_MB),
        });
    }

    md.push_str(
        "\n## The issue's targets\n\n| target | measured in this run | met |\n|---|---|---|\n",
    );
    for row in &rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(md, "| {} | {} | {met} |", row.target, row.measured);
    }
    Value::Array(
        rows.iter()
            .map(|r| json!({"target": r.target, "measured": r.measured, "met": r.met}))
            .collect(),
    )
}

/// A WAITING token's poll with the queue on Redis, under wrk
/// (`reads-redis.tsv`), against the faster of the two commands its script
/// runs, as `redis-benchmark` measured them in the same run.
fn redis_poll_row(dir: &Path) -> Option<Row> {
    let reads = tsv(&dir.join("reads-redis.tsv"));
    let polls: f64 = reads
        .iter()
        .find(|r| r.len() >= 2 && r[0] == "poll-waiting")?[1]
        .parse()
        .ok()?;
    let redis = std::fs::read_to_string(dir.join("redis-benchmark.txt")).unwrap_or_default();
    // "ZRANK key member: 88495.58 requests per second, p50=0.095 msec"
    let ceiling = redis
        .lines()
        .filter_map(|l| l.split_once(" requests per second")?.0.rsplit(' ').next())
        .filter_map(|n| n.parse::<f64>().ok())
        .fold(f64::NAN, f64::max);
    Some(Row::ratio_at_least(
        POLL_RATIO_TARGET,
        "queue poll (WAITING), queue on Redis ≥ 0.4× redis-benchmark's one-command rate, c=16"
            .into(),
        polls,
        ceiling,
        format!("wrk: {polls:.0} polls/s against {ceiling:.0} commands/s"),
    ))
}

/// A sale meets its target with no 5xx other than `Retry-After` answers, no
/// transport error and no invariant violation; its time to sell out is shown
/// beside the bound K and the journey set.
fn sale_row(sale: &Value, queue: &str) -> Row {
    let mut retry_after = 0;
    let mut other_5xx = 0;
    let mut transport = 0;
    for e in sale["endpoints"].as_array().into_iter().flatten() {
        for (code, n) in e["errors"].as_object().into_iter().flatten() {
            let n = n.as_u64().unwrap_or(0);
            if code.starts_with('5') && code.ends_with("(Retry-After)") {
                retry_after += n;
            } else if code.starts_with('5') {
                other_5xx += n;
            } else if code.starts_with("transport") {
                transport += n;
            }
        }
    }
    let violations = sale["invariants"]["violations"].as_u64();
    let p50 = |path: &str| {
        endpoint(&sale["endpoints"], path).map_or(f64::NAN, |e| num(&e["p50Ms"]) / 1000.0)
    };
    // An admitted buyer keeps one of K places for one journey (seat map,
    // hold, payment), so K places sell at most K / journey seats a second.
    let journey = p50("GET /seats") + p50("POST /reservations") + p50("POST /payments");
    let bound = num(&sale["seats"]) * journey / num(&sale["queueCap"]);
    let sold_out = sale["timeToSellOutSecs"]
        .as_f64()
        .map_or("not sold out".to_owned(), |t| format!("{t:.1} s"));
    Row {
        target: format!(
            "{} users / {} seats, queue in {queue}: no 5xx besides Retry-After, no violation",
            sale["users"], sale["seats"]
        ),
        measured: format!(
            "sold out in {sold_out} (bound from K and the journey: ≥ {bound:.1} s after the first \
             admission, journey p50 {journey:.2} s); other 5xx {other_5xx}, transport errors \
             {transport}, 503 + Retry-After {retry_after}, violations {}",
            violations.map_or("?".to_owned(), |v| v.to_string())
        ),
        met: Some(other_5xx == 0 && violations == Some(0) && sale["soldOut"] == json!(true)),
    }
}
