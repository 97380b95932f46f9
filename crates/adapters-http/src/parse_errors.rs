//! Problem+json for the errors actix-http's HTTP/1 parser answers by itself,
//! before any route or middleware runs: 400 (a malformed request line or
//! header, a NUL in a header, a raw 0xFF in the path), 431 (too many or too
//! large headers, an over-long request line) and 408 (a request head that did
//! not arrive in time). The dispatcher writes those as a bare head with
//! `content-length: 0`; [`ProblemIo`] wraps the accepted connection and
//! rewrites such a head, as it is written, into a problem+json response with
//! the same status.
//!
//! The rule it applies is narrow: a response head at the start of a write
//! with a 4xx/5xx status, `content-length: 0` and no `content-type`. Every
//! error the application itself answers is problem+json (it has a
//! `content-type`), so only the parser's bare errors match.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::ApiError;

/// A connection whose bare error heads are rewritten into problem+json.
pub struct ProblemIo<T> {
    inner: T,
    /// A rewritten response accepted from the dispatcher, not yet all written.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ProblemIo<T> {
    /// Wraps an accepted connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }

    /// The wrapped connection.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is pending; ready once nothing is.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match rewrite(buf) {
            Some(rewritten) => {
                // Taken whole; what the socket does not take now goes out on
                // the next write, flush or shutdown.
                this.pending = rewritten;
                if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// What the client is told for a status the parser answered.
fn detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "the request could not be parsed (malformed request line or header)",
        408 => "the request head did not arrive in time",
        431 => "the request head is too large (too many or too long headers, or request line)",
        _ => "the request was refused before it reached the application",
    }
}

/// The bytes to write instead of `buf`, when `buf` starts with a bare error head.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    let head_len = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_len - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = StatusCode::from_bytes(status_line.get(9..12)?.as_bytes()).ok()?;
    if status.as_u16() < 400 {
        return None;
    }
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-type") {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            empty = value.trim() == "0";
            continue;
        }
        kept.push(line);
    }
    if !empty {
        return None;
    }
    let body =
        serde_json::to_string(&ApiError::Http(status, detail(status).to_owned()).problem()).ok()?;
    let mut out = Vec::with_capacity(head_len + body.len() + 64);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for line in kept {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/problem+json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(&buf[head_len..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_bare_error_head_becomes_problem_json_with_its_status() {
        let out = text(
            rewrite(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n")
                .unwrap(),
        );
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("\r\nconnection: close"), "{head}");
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 431);
        assert_eq!(problem["code"], "REQUEST_HEADER_FIELDS_TOO_LARGE");
        assert_eq!(problem["type"], "about:blank");
    }

    #[test]
    fn answers_with_a_body_or_a_type_or_a_success_are_left_alone() {
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}").is_none());
        assert!(rewrite(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n\r\n"
        )
        .is_none());
        assert!(
            rewrite(b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n").is_none()
        );
        assert!(rewrite(b"{\"partial\": \"body\"}").is_none());
    }
}
