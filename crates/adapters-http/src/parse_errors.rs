//! Problem+json for the errors actix-http's HTTP/1 parser answers by itself,
//! before any route or middleware runs: 400 (a malformed request line or
//! header, a NUL in a header, a raw 0xFF in the path), 431 (too many or too
//! large headers, an over-long request line) and 408 (a request head that did
//! not arrive in time). The dispatcher writes those as a bare head with
//! `content-length: 0`; [`ProblemIo`] wraps the accepted connection and
//! rewrites such a head, as it is written, into a problem+json response with
//! the same status.
//!
//! A request line over 8 KiB (what the wrapper saw read before the first
//! line break of the request) that the parser refused is answered 414 URI Too
//! Long, as HTTP servers usually do, instead of actix-http's 400 or 431.
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
    /// Bytes of the current request line read so far, and whether its end
    /// has not been read yet (both reset by each answer written).
    request_line: usize,
    in_request_line: bool,
}

/// A longer request line that the parser refuses is 414.
const LONG_REQUEST_LINE: usize = 8 * 1024;

impl<T> ProblemIo<T> {
    /// Wraps an accepted connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
            request_line: 0,
            in_request_line: true,
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
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.in_request_line {
            let read = &buf.filled()[before..];
            match read.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    this.request_line += end;
                    this.in_request_line = false;
                }
                None => this.request_line += read.len(),
            }
        }
        polled
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
        let long_line = this.request_line > LONG_REQUEST_LINE;
        // An answer: what is read next starts a new request.
        this.request_line = 0;
        this.in_request_line = true;
        match rewrite(buf, long_line) {
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
        414 => "the request line is too long (over 8 KiB)",
        431 => "the request head is too large (too many or too long headers, or request line)",
        _ => "the request was refused before it reached the application",
    }
}

/// The bytes to write instead of `buf`, when `buf` starts with a bare error
/// head (`long_line`: the request line refused was over the limit).
fn rewrite(buf: &[u8], long_line: bool) -> Option<Vec<u8>> {
    // Most writes are successful answers or bodies: leave them at once.
    if !buf.starts_with(b"HTTP/1.") || !matches!(buf.get(9), Some(b'4' | b'5')) {
        return None;
    }
    let head_len = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_len - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut status = StatusCode::from_bytes(status_line.get(9..12)?.as_bytes()).ok()?;
    if status.as_u16() < 400 {
        return None;
    }
    let mut status_line = status_line.to_owned();
    if long_line && matches!(status.as_u16(), 400 | 431) {
        status = StatusCode::URI_TOO_LONG;
        status_line = format!("{} 414 URI Too Long", &status_line[..8]);
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
            rewrite(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n", false)
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
    fn a_refused_long_request_line_is_414() {
        let out = text(
            rewrite(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
                true,
            )
            .unwrap(),
        );
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{out}");
        assert!(out.contains("\"code\":\"URI_TOO_LONG\""), "{out}");
        // A timeout stays a timeout.
        let out = text(
            rewrite(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n",
                true,
            )
            .unwrap(),
        );
        assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
    }

    #[test]
    fn answers_with_a_body_or_a_type_or_a_success_are_left_alone() {
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", false).is_none());
        assert!(rewrite(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}",
            false
        )
        .is_none());
        assert!(rewrite(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n\r\n",
            false
        )
        .is_none());
        assert!(rewrite(
            b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n",
            false
        )
        .is_none());
        assert!(rewrite(b"{\"partial\": \"body\"}", false).is_none());
    }
}
