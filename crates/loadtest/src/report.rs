//! `report`: gathers the outputs of scripts/bench.sh into report.md and report.json.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};

mod targets;

#[derive(clap::Args, Serialize)]
pub struct Args {
    /// The directory bench.sh wrote to (scenario .json files, pgbench.tsv, phases.tsv).
    #[arg(long, default_value = "target/bench")]
    pub dir: PathBuf,
    /// The sizes of the run, as one line.
    #[arg(long, default_value = "")]
    pub sizes: String,
    /// The machine, as one line.
    #[arg(long, default_value = "")]
    pub machine: String,
    /// The commit benchmarked.
    #[arg(long, default_value = "")]
    pub commit: String,
}

const SCENARIOS: &[&str] = &[
    "health",
    "seat-map",
    "hold",
    "purchase",
    "health-c8",
    "health-c32",
    "contend",
    "queue-poll",
    "flash-pg",
    "flash-pg-redis",
    "flash-sqlite",
];

fn tsv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn endpoint<'a>(endpoints: &'a Value, name: &str) -> Option<&'a Value> {
    endpoints
        .as_array()?
        .iter()
        .find(|e| e["endpoint"].as_str() == Some(name))
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".into()
    }
}

fn endpoint_table(md: &mut String, endpoints: &Value) {
    md.push_str("| endpoint | requests | ok | req/s | p50 ms | p95 ms | p99 ms | max ms |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut errors = Vec::new();
    for e in endpoints.as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            e["endpoint"].as_str().unwrap_or("?"),
            e["requests"],
            e["ok"],
            num(&e["requestsPerSec"]),
            num(&e["p50Ms"]),
            num(&e["p95Ms"]),
            num(&e["p99Ms"]),
            num(&e["maxMs"])
        );
        for (code, n) in e["errors"].as_object().into_iter().flatten() {
            errors.push(format!(
                "`{}` {code}: {n}",
                e["endpoint"].as_str().unwrap_or("?")
            ));
        }
    }
    if errors.is_empty() {
        md.push_str("\nNon-2xx answers: none.\n");
    } else {
        let _ = writeln!(
            md,
            "\nNon-2xx answers and transport errors, by code: {}.",
            errors.join("; ")
        );
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = &args.dir;
    let mut docs = serde_json::Map::new();
    for name in SCENARIOS {
        let path = dir.join(format!("{name}.json"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            let doc: Value =
                serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
            docs.insert((*name).to_owned(), doc);
        }
    }
    let phases = tsv(&dir.join("phases.tsv"));
    let cpu = tsv(&dir.join("server-cpu.tsv"));
    let pgbench: Vec<Value> = tsv(&dir.join("pgbench.tsv"))
        .into_iter()
        .filter(|r| r.len() >= 8)
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap_or(f64::NAN);
            let n = |i: usize| r[i].parse::<u64>().unwrap_or(0);
            json!({"clients": n(0), "transactions": n(1), "tps": f(2), "p50Ms": f(3),
                   "p95Ms": f(4), "p99Ms": f(5), "maxMs": f(6), "failed": n(7)})
        })
        .collect();
    let get = |name: &str| docs.get(name).map(|d| &d["result"]);

    let mut md = String::new();
    md.push_str("# Benchmark report\n\n");
    let _ = writeln!(md, "- generated: {}", chrono::Utc::now().to_rfc3339());
    let _ = writeln!(md, "- commit: {}", args.commit);
    let _ = writeln!(md, "- machine: {}", args.machine);
    let _ = writeln!(md, "- sizes: {}", args.sizes);
    let passed: Vec<String> = docs
        .iter()
        .map(|(n, d)| {
            format!(
                "{n} {}",
                if d["passed"] == json!(true) {
                    "passed"
                } else {
                    "FAILED"
                }
            )
        })
        .collect();
    let _ = writeln!(md, "- checks: {}", passed.join(", "));
    let targets = targets::table(dir, &docs, &mut md);

    md.push_str("\n## Phases\n\n| phase | wall s | server CPU s | load generator CPU s |\n|---|---:|---:|---:|\n");
    for p in &phases {
        let name = p.first().map(String::as_str).unwrap_or("?");
        let server_cpu = cpu
            .iter()
            .find(|c| c.first().map(String::as_str) == Some(name) && c.len() >= 3)
            .map(|c| {
                let (a, b): (f64, f64) = (c[1].parse().unwrap_or(0.0), c[2].parse().unwrap_or(0.0));
                format!("{:.1}", b - a)
            })
            .unwrap_or_default();
        let lt_cpu = std::fs::read_to_string(dir.join(format!("{name}.time")))
            .ok()
            .and_then(|t| {
                let f: Vec<f64> = t
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (f.len() >= 3).then(|| format!("{:.1}", f[1] + f[2]))
            })
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {name} | {} | {server_cpu} | {lt_cpu} |",
            p.get(1).map(String::as_str).unwrap_or("")
        );
    }

    // ---- baselines and ratios ----
    md.push_str("\n## Against the baselines\n\n");
    md.push_str(
        "| measure | value | baseline | baseline value | ratio |\n|---|---:|---|---:|---:|\n",
    );
    if let (Some(sm), Some(h)) = (get("seat-map"), get("health")) {
        if let (Some(s), Some(hl)) = (
            endpoint(&sm["endpoints"], "GET /seats"),
            endpoint(&h["endpoints"], "GET /health/live"),
        ) {
            let _ = writeln!(
                md,
                "| seat-map req/s (c={}, {} seats) | {:.0} | /health/live req/s (c={}) | {:.0} | {} |",
                sm["concurrency"], sm["seats"],
                num(&s["okPerSec"]), h["concurrency"], num(&hl["okPerSec"]),
                ratio(num(&s["okPerSec"]), num(&hl["okPerSec"]))
            );
            let _ = writeln!(
                md,
                "| seat-map p50 ms | {:.2} | /health/live p50 ms | {:.2} | {} |",
                num(&s["p50Ms"]),
                num(&hl["p50Ms"]),
                ratio(num(&s["p50Ms"]), num(&hl["p50Ms"]))
            );
        }
    }
    if let Some(h) = get("hold") {
        for level in h["levels"].as_array().into_iter().flatten() {
            let c = num(&level["concurrency"]);
            // Only beside the service's own hold SQL (the `pgbench` scenario);
            // the minimal baselines have their own table below.
            let Some(pg) = pgbench.iter().find(|p| num(&p["clients"]) == c) else {
                continue;
            };
            let hold = endpoint(&level["endpoints"], "POST /reservations");
            let (pg_tps, pg_p50) = (num(&pg["tps"]), num(&pg["p50Ms"]));
            let _ = writeln!(
                md,
                "| holds/s, c={c} | {:.0} | pgbench hold SQL tps, c={c} | {:.0} | {} |",
                num(&level["holdsPerSec"]),
                pg_tps,
                ratio(num(&level["holdsPerSec"]), pg_tps)
            );
            if let Some(hold) = hold {
                let _ = writeln!(
                    md,
                    "| hold p50 ms, c={c} | {:.2} | pgbench p50 ms, c={c} | {:.2} | {} |",
                    num(&hold["p50Ms"]),
                    pg_p50,
                    ratio(num(&hold["p50Ms"]), pg_p50)
                );
            }
        }
    }

    let minimal = minimal_baselines(dir, &docs, &mut md);

    if !pgbench.is_empty() {
        md.push_str("\n## Database baseline: pgbench running the SQL of one hold\n\n");
        md.push_str("| clients | holds | tps | p50 ms | p95 ms | p99 ms | max ms | failed |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for p in &pgbench {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                p["clients"],
                p["transactions"],
                num(&p["tps"]),
                num(&p["p50Ms"]),
                num(&p["p95Ms"]),
                num(&p["p99Ms"]),
                num(&p["maxMs"]),
                p["failed"]
            );
        }
    }
    if let Some(h) = get("health") {
        md.push_str("\n## HTTP baseline: GET /health/live\n\n");
        endpoint_table(&mut md, &h["endpoints"]);
    }
    if let Some(sm) = get("seat-map") {
        let _ = writeln!(
            md,
            "\n## Seat map ({} seats, concurrency {})\n",
            sm["seats"], sm["concurrency"]
        );
        endpoint_table(&mut md, &sm["endpoints"]);
    }
    if let Some(h) = get("hold") {
        md.push_str("\n## Holds on distinct seats\n");
        for level in h["levels"].as_array().into_iter().flatten() {
            let _ = writeln!(
                md,
                "\nConcurrency {}: {} of {} held in {:.2} s, {:.0} holds/s.\n",
                level["concurrency"],
                level["held"],
                level["holds"],
                num(&level["elapsedSecs"]),
                num(&level["holdsPerSec"])
            );
            endpoint_table(&mut md, &level["endpoints"]);
        }
    }
    if let Some(c) = get("contend") {
        let _ = writeln!(
            md,
            "\n## Contention: {} users for one seat, {} rounds\n\nRounds with exactly one winner: {}/{}; \
             201s answered {}, reservations on the server {}. Round time p50 {:.3} s, max {:.3} s.\n",
            c["contenders"], c["rounds"], c["correctRounds"], c["rounds"],
            c["winnersAnswered"], c["reservationsOnServer"],
            num(&c["roundTime"]["p50Secs"]), num(&c["roundTime"]["maxSecs"])
        );
        endpoint_table(&mut md, &c["endpoints"]);
    }
    if let Some(q) = get("queue-poll") {
        let _ = writeln!(
            md,
            "\n## Queue position reads with {} WAITING tokens in line (concurrency {})\n\nLargest position seen: {}.\n",
            q["waiting"], q["concurrency"], q["maxPositionSeen"]
        );
        endpoint_table(&mut md, &q["endpoints"]);
    }
    for (name, title) in [
        ("flash-pg", "PostgreSQL"),
        ("flash-pg-redis", "PostgreSQL, the queue on Redis"),
        ("flash-sqlite", "SQLite"),
    ] {
        let Some(f) = get(name) else { continue };
        let inv = &f["invariants"];
        let _ = writeln!(
            md,
            "\n## Flash sale on {title}: {} users, {} seats, K={}\n",
            f["users"], f["seats"], f["queueCap"]
        );
        let sell_out = f["timeToSellOutSecs"]
            .as_f64()
            .map_or("**not sold out**".to_owned(), |t| format!("{t:.2} s"));
        let _ = writeln!(md, "- set-up (untimed): {:.1} s", num(&f["setupSecs"]));
        let milestones: Vec<String> = f["soldBy"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| match m["secs"].as_f64() {
                Some(t) => format!("{}% by {t:.1} s", m["percent"]),
                None => format!("{}% never", m["percent"]),
            })
            .collect();
        if !milestones.is_empty() {
            let _ = writeln!(md, "- seats sold: {}", milestones.join(", "));
        }
        let _ = writeln!(
            md,
            "- time to sell out: {sell_out}; timed phase {:.2} s; all joins answered after {:.2} s",
            num(&f["timedPhaseSecs"]),
            num(&f["joinBurstSecs"])
        );
        let w = &f["queueWait"];
        let _ = writeln!(
            md,
            "- queue wait, join to ACTIVE ({} admitted): p50 {:.2} s, p95 {:.2} s, max {:.2} s",
            w["count"],
            num(&w["p50Secs"]),
            num(&w["p95Secs"]),
            num(&w["maxSecs"])
        );
        let outcomes: Vec<String> = f["outcomes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(md, "- users: {}", outcomes.join("; "));
        let _ = writeln!(
            md,
            "- invariants: {} violations (CONFIRMED {}, payments answered 201 {}, seats sold twice {}, \
             balance mismatches {}, availableSeats {} expected {})\n",
            inv["violations"], inv["confirmedReservations"], inv["paymentsAnswered201"],
            inv["duplicateSeats"], inv["balanceMismatches"], inv["availableSeats"],
            inv["expectedAvailableSeats"]
        );
        endpoint_table(&mut md, &f["endpoints"]);
    }

    let report = json!({
        "generatedAt": chrono::Utc::now().to_rfc3339(),
        "commit": args.commit,
        "machine": args.machine,
        "sizes": args.sizes,
        "phases": phases.iter().map(|p| json!({"phase": p.first(), "wallSecs": p.get(1).and_then(|s| s.parse::<f64>().ok())})).collect::<Vec<_>>(),
        "pgbench": pgbench,
        "pgbenchMinimal": minimal,
        "targets": targets,
        "scenarios": docs,
    });
    std::fs::write(dir.join("report.md"), md)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    Ok(())
}

/// Holds and purchases against the minimal one-statement pgbench baselines
/// (`pgbench-min.tsv`: kind, clients, transactions, tps, p50, p99, failed)
/// and against `/health/live` at the same concurrency; returns the baselines.
fn minimal_baselines(dir: &Path, docs: &serde_json::Map<String, Value>, md: &mut String) -> Value {
    let rows: Vec<Value> = tsv(&dir.join("pgbench-min.tsv"))
        .into_iter()
        .filter(|r| r.len() >= 7)
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap_or(f64::NAN);
            json!({"kind": r[0], "clients": f(1), "transactions": f(2), "tps": f(3),
                   "p50Ms": f(4), "p99Ms": f(5), "failed": f(6)})
        })
        .collect();
    let get = |name: &str| docs.get(name).map(|d| &d["result"]);
    let baseline = |kind: &str, c: f64| {
        rows.iter()
            .find(|r| r["kind"] == kind && num(&r["clients"]) == c)
            .map_or((f64::NAN, f64::NAN), |r| (num(&r["tps"]), num(&r["p50Ms"])))
    };
    let health = |c: f64| {
        get(&format!("health-c{c}"))
            .and_then(|h| endpoint(&h["endpoints"], "GET /health/live"))
            .map_or(f64::NAN, |e| num(&e["okPerSec"]))
    };
    let Some(purchase) = get("purchase") else {
        return json!(rows);
    };
    md.push_str(
        "\n## Holds and purchases against the minimal statements\n\n\
         Baselines: pgbench running the minimal one-statement hold, and hold + pay as two \
         such statements (scripts/bench.sh, `pgbench_min`), and `/health/live` at the same \
         concurrency. Target: ratio >= 0.5 to the pgbench baseline.\n\n\
         | measure | value | pgbench minimal | ratio | /health/live req/s | ratio |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for level in purchase["levels"].as_array().into_iter().flatten() {
        let c = num(&level["concurrency"]);
        let held = get("hold").and_then(|h| {
            h["levels"]
                .as_array()?
                .iter()
                .find(|l| num(&l["concurrency"]) == c)
                .map(|l| num(&l["holdsPerSec"]))
        });
        let live = health(c);
        if let Some(held) = held {
            let (tps, _) = baseline("hold", c);
            let _ = writeln!(
                md,
                "| holds/s, c={c} | {held:.0} | {tps:.0} | {} | {live:.0} | {} |",
                ratio(held, tps),
                ratio(held, live)
            );
        }
        let orders = num(&level["ordersPerSec"]);
        let (tps, p50) = baseline("purchase", c);
        let _ = writeln!(
            md,
            "| orders/s (hold + pay), c={c} | {orders:.0} | {tps:.0} | {} | {live:.0} | {} |",
            ratio(orders, tps),
            ratio(orders, live)
        );
        let _ = writeln!(
            md,
            "| purchase p50 / p99 ms, c={c} | {:.2} / {:.2} | p50 {p50:.2} | {} | | |",
            num(&level["purchaseP50Ms"]),
            num(&level["purchaseP99Ms"]),
            ratio(num(&level["purchaseP50Ms"]), p50)
        );
    }
    json!(rows)
}
