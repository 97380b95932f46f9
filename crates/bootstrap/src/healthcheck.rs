//! `concert-server healthcheck`: asks a running instance whether it is ready.
//!
//! Container runtimes (Docker's HEALTHCHECK, compose) run a command inside the
//! image; the image has no curl, and one plain HTTP/1.0 request needs no client
//! library, so the binary asks itself.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the whole probe may take; a hung server counts as unhealthy.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an instance is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach {address}")]
    Unreachable {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("answered `{0}`")]
    NotReady(String),
}

/// GET /health/ready on the instance listening on `port` (on loopback when it
/// listens on every address); Ok only for a 200.
pub async fn check(host: &str, port: u16) -> Result<(), HealthcheckError> {
    let host = match host {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    let address = format!("{host}:{port}");
    tokio::time::timeout(PROBE_TIMEOUT, probe(&address))
        .await
        .map_err(|_| HealthcheckError::Timeout(PROBE_TIMEOUT))?
}

async fn probe(address: &str) -> Result<(), HealthcheckError> {
    let unreachable = |source| HealthcheckError::Unreachable {
        address: address.to_owned(),
        source,
    };
    let mut stream = TcpStream::connect(address).await.map_err(unreachable)?;
    let request = format!("GET /health/ready HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(unreachable)?;
    // The status line is all we need; the body of /health/ready is tiny.
    let mut head = vec![0u8; 256];
    let read = stream.read(&mut head).await.map_err(unreachable)?;
    let status_line = String::from_utf8_lossy(&head[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(HealthcheckError::NotReady(status_line))
    }
}
