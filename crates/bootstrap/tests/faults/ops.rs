//! What operators read: JSON log lines carrying the request's root span
//! (tracing-actix-web) with its id, method, route and status, and `/metrics`
//! on a port of its own when configured (then not on the main port).

use std::io::{BufRead, BufReader};

use reqwest::StatusCode;
use serde_json::Value;

use crate::server::{client, free_port, Db, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_root_span_and_metrics_have_their_own_port() {
    let url = Db::Sqlite.fresh().await.unwrap();
    let metrics_port = free_port().to_string();
    let mut server = Server::start_with_log(
        &url,
        &[
            ("APP__LOG__FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("APP__SERVER__METRICS_PORT", metrics_port.as_str()),
        ],
    )
    .await;
    let http = client();
    let a = server.address.clone();
    let listed = http
        .get(format!("{a}/api/v1/concerts"))
        .header("X-Request-Id", "ops-trace-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(listed.headers()["x-request-id"], "ops-trace-1");

    let hidden = http.get(format!("{a}/metrics")).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    assert_eq!(hidden.headers()["content-type"], "application/problem+json");
    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("concert_http_requests_total{method=\"GET\",route=\"/api/v1/concerts\",status=\"200\"} 1"),
        "{text}"
    );

    let log = server.take_log();
    server.kill();
    let lines: Vec<Value> = BufReader::new(log)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let finished = lines
        .iter()
        .find(|l| l["message"] == "request finished" && l["span"]["request_id"] == "ops-trace-1")
        .unwrap_or_else(|| panic!("no finished line for the request: {lines:#?}"));
    let span = &finished["span"];
    assert_eq!(span["name"], "request", "{finished}");
    assert_eq!(span["method"], "GET", "{finished}");
    assert_eq!(span["route"], "/api/v1/concerts", "{finished}");
    assert_eq!(span["status"], 200, "{finished}");
    assert_eq!(span["otel.kind"], "server", "{finished}");
    assert_eq!(finished["status"], 200, "{finished}");
}
