//! A bound on the requests one instance works on at once. Past it, a request
//! is answered 503 with `Retry-After` at once, before any extractor or store.
//!
//! Why: in a rush (10,000 buyers joining a queue at once) every request that
//! waits, for a pooled database connection or an Argon2 slot, holds its parsed
//! head (about 5 KB of header map), its handler's future and a place in the
//! pool's queue. Measured on a 2-core box with a pool of 10: 10,000 such
//! requests added about 120 MiB to the server's peak RSS, and almost all of them
//! waited out the 3 s acquire timeout only to be answered 503 anyway. Refused
//! early, they cost nothing and the client comes back when told to; the ones
//! let in are served within the timeout.
//!
//! The line (joins and token polls) may take at most half of the places: in
//! a rush it is most of the traffic, and without a share of its own it took
//! every place, so admitted buyers were refused their seat map, hold or
//! payment until their ACTIVE window ran out. Refusing a poll costs its
//! holder nothing (the place in line is kept); refusing a buyer costs a sale.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{ApiError, AppState};

/// The requests this instance may work on at once.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    /// The line's share, taken beside a place of `permits`.
    line: Arc<Semaphore>,
    max: usize,
}

impl InFlight {
    /// At most `max` (at least 1) requests at once, of which at most half
    /// (at least 1) joins and polls.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            line: Arc::new(Semaphore::new((max / 2).max(1))),
            max,
        }
    }
}

/// Joins (`POST /api/v1/concerts/{id}/queue/tokens`) and polls
/// (`GET /api/v1/queue/tokens/current`).
fn in_line(method: &Method, path: &str) -> bool {
    let join = || {
        path.strip_prefix("/api/v1/concerts/")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(_, tail)| tail == "queue/tokens")
    };
    match *method {
        Method::GET => path == "/api/v1/queue/tokens/current",
        Method::POST => join(),
        _ => false,
    }
}

/// Probes must answer while the instance sheds load: an orchestrator that
/// saw `/health/live` fail in a rush would restart a busy, healthy instance.
fn exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// The places a request holds until its handler has answered: one of the
/// bound's, and one of the line's for joins and polls.
type Places = (Option<OwnedSemaphorePermit>, OwnedSemaphorePermit);

impl InFlight {
    /// Places for a request, `None` for the exempt probes, or the refusal.
    fn admit(&self, method: &Method, path: &str) -> Result<Option<Places>, ApiError> {
        if exempt(path) {
            return Ok(None);
        }
        let line = if in_line(method, path) {
            self.line.clone().try_acquire_owned().map(Some)
        } else {
            Ok(None)
        };
        match (line, self.permits.clone().try_acquire_owned()) {
            (Ok(line), Ok(permit)) => Ok(Some((line, permit))),
            _ => Err(ApiError::Overloaded {
                max_in_flight: self.max,
            }),
        }
    }
}

/// Lets the request through while the bound has room; else 503 at once.
pub async fn in_flight(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let places = match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.in_flight.admit(req.method(), req.path())?,
        None => None,
    };
    let response = next.call(req).await;
    drop(places);
    Ok(response?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_probes_and_metrics_are_exempt() {
        assert!(exempt("/health/live") && exempt("/health/ready") && exempt("/metrics"));
        assert!(!exempt("/api/v1/concerts") && !exempt("/metrics/x") && !exempt("/healthz"));
    }

    #[test]
    fn joins_and_polls_are_the_line() {
        assert!(in_line(&Method::POST, "/api/v1/concerts/7/queue/tokens"));
        assert!(in_line(&Method::GET, "/api/v1/queue/tokens/current"));
        assert!(!in_line(&Method::GET, "/api/v1/concerts/7/queue/tokens"));
        assert!(!in_line(&Method::POST, "/api/v1/reservations"));
        assert!(!in_line(
            &Method::POST,
            "/api/v1/concerts/7/schedules/1/waitlist"
        ));
        assert!(!in_line(
            &Method::GET,
            "/api/v1/concerts/7/schedules/1/seats"
        ));
    }

    #[test]
    fn the_line_takes_at_most_half_of_the_places() {
        const POLL: &str = "/api/v1/queue/tokens/current";
        const HOLD: &str = "/api/v1/reservations";
        let gate = InFlight::new(4);
        let polls: Vec<_> = (0..2)
            .map(|_| gate.admit(&Method::GET, POLL).unwrap())
            .collect();
        // The line's half is taken: another poll is refused...
        assert!(gate.admit(&Method::GET, POLL).is_err());
        // ...while buyers still get the other half.
        let holds: Vec<_> = (0..2)
            .map(|_| gate.admit(&Method::POST, HOLD).unwrap())
            .collect();
        assert!(gate.admit(&Method::POST, HOLD).is_err());
        // The probes are never refused.
        assert!(gate.admit(&Method::GET, "/health/live").unwrap().is_none());
        // A finished poll frees its places for the next one.
        drop(polls);
        assert!(gate.admit(&Method::GET, POLL).is_ok());
        drop(holds);
    }

    #[test]
    fn a_bound_of_zero_still_lets_one_request_in() {
        let gate = InFlight::new(0);
        let first = gate.permits.clone().try_acquire_owned();
        assert!(first.is_ok());
        assert!(gate.permits.clone().try_acquire_owned().is_err());
    }
}
