//! A bound on every request: whatever it waits for (a frozen database link,
//! a client trickling its body), it answers 503 with `Retry-After` in time.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use domain::{DomainError, StoreError};

use crate::{ApiError, AppState};

/// Timeouts the HTTP layer enforces itself.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// The longest a request may take from its head to its answer. Longer
    /// than the database's statement timeout, so that a lock wait is ended
    /// by the database (cleanly) and this only catches what it cannot see.
    pub request_timeout: Duration,
    /// The longest a client may take to send a request body.
    pub body_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(5),
        }
    }
}

/// Drops the handler's future at the deadline: an open transaction is rolled
/// back with its connection, and a payment with an `Idempotency-Key` keeps
/// its answer only if it committed, so a retry learns the truth.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limit = req.app_data::<web::Data<AppState>>().map_or_else(
        || HttpLimits::default().request_timeout,
        |s| s.timeouts.request_timeout,
    );
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(response) => Ok(response?.map_into_boxed_body()),
        // As an error: the request cannot be cloned before routing, and actix
        // renders the error with ApiError's own response (Retry-After included).
        Err(_) => Err(
            ApiError::from(DomainError::Store(StoreError::unavailable(format!(
                "request not answered within {} ms",
                limit.as_millis()
            ))))
            .into(),
        ),
    }
}
