//! Cross-origin access for browser clients on other origins: off unless
//! origins are configured, then only for those.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::Condition;

/// The CORS middleware for `allowed_origins` (`*` allows any); none configured
/// leaves responses without CORS headers, so browsers keep the same-origin rule.
pub fn cors(allowed_origins: &[String]) -> Condition<Cors> {
    let origins: Vec<&str> = allowed_origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-queue-token"),
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-admin-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in &origins {
        cors = if *origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    Condition::new(!origins.is_empty(), cors)
}
