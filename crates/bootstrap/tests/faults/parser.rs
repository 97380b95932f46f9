//! What actix-http's parser refuses before any route runs is problem+json
//! too: raw bytes over a TcpStream to the real binary.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{Db, Server};

/// Sends `request` raw and reads the answer until the server closes.
async fn raw(port: u16, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn assert_problem(status: u16, head: &str, body: &str, code: &str) {
    assert!(
        head.contains("content-type: application/problem+json"),
        "{status}: {head}"
    );
    assert!(
        head.contains(&format!("content-length: {}", body.len())),
        "{head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], status, "{body}");
    assert_eq!(problem["code"], code, "{body}");
    assert_eq!(problem["type"], "about:blank", "{body}");
    assert!(problem["title"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parser_errors_are_problem_json() {
    let url = Db::Sqlite.fresh().await.unwrap();
    let server = Server::start(&url, &[]).await;
    let port: u16 = server.address.rsplit(':').next().unwrap().parse().unwrap();

    let mut many = b"GET /health/live HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let long_line = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "too many headers",
            many,
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
        ),
        (
            "NUL in a header",
            b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n".to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "0xFF in the path",
            b"GET /health/\xfflive HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "not HTTP at all",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
    ];
    for (what, request, status, code) in cases {
        let (got, head, body) = raw(port, &request).await;
        assert_eq!(got, status, "{what}: {head}\n{body}");
        assert_problem(got, &head, &body, code);
    }
    // A 100 KB request line: 414, not the parser's 400.
    let (got, head, body) = raw(port, long_line.as_bytes()).await;
    assert_eq!(got, 414, "{head}");
    assert_problem(got, &head, &body, "URI_TOO_LONG");

    // A long header line is no long request line (actix-http takes this one).
    let long_header = format!(
        "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let (got, head, _) = raw(port, long_header.as_bytes()).await;
    assert_eq!(got, 200, "{head}");

    // Ordinary answers are untouched, on the same kind of connection.
    let (got, head, body) = raw(
        port,
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(got, 200, "{head}");
    assert!(!head.contains("problem+json"), "{head} {body}");
}

/// JSON bodies follow JSON Schema's reading: `100.0` is the integer 100, a
/// fraction is 400, and a body that is not an object is 400 (after the admin
/// key, which is checked first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_are_read_as_json_schema_reads_them() {
    use reqwest::StatusCode;
    use serde_json::json;

    use crate::server::{client, try_answer, ADMIN_KEY};

    let url = Db::Sqlite.fresh().await.unwrap();
    let server = Server::start(&url, &[]).await;
    let a = &server.address;
    let user = &crate::invariants::users(a, "shape", 1).await[0];
    let http = client();
    let charge = |body: &'static str| {
        http.post(format!("{a}/api/v1/users/{}/points/charge", user.id))
            .bearer_auth(&user.token)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let (status, body) = try_answer(charge(r#"{"amount": 100.0}"#)).await.unwrap();
    assert_eq!(
        (status, &body["balance"]),
        (StatusCode::OK, &json!(100)),
        "{body}"
    );
    let (status, body) = try_answer(charge(r#"{"amount": 1e2}"#)).await.unwrap();
    assert_eq!(
        (status, &body["balance"]),
        (StatusCode::OK, &json!(200)),
        "{body}"
    );
    for refused in [r#"{"amount": 100.5}"#, "[100]"] {
        let (status, body) = try_answer(charge(refused)).await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        assert_eq!(body["code"], "VALIDATION_FAILED", "{refused}: {body}");
    }
    let queue = |key: &'static str| {
        http.patch(format!("{a}/api/v1/admin/concerts/1/queue"))
            .header("X-Admin-Key", key)
            .header("Content-Type", "application/json")
            .body("[null, null]")
    };
    let (status, body) = try_answer(queue("wrong")).await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "the key first: {body}");
    let concert = crate::invariants::concert(a, 1, 1_000).await;
    assert_eq!(concert.0, 1);
    let (status, body) = try_answer(queue(ADMIN_KEY)).await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "VALIDATION_FAILED", "{body}");
}
