//! The HTTP adapter: actix-web handlers, DTOs, extractors, the contract's
//! error mapping, telemetry and the OpenAPI document.

mod body_guard;
mod cors;
mod deadline;
mod dto;
mod error;
mod extract;
mod fallbacks;
mod handlers;
mod idempotent;
mod in_flight;
mod json_shape;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod paging;
mod parse_errors;
mod routes;
mod seat_map_body;
mod security;
mod state;
mod telemetry;

pub use cors::cors;
pub use deadline::HttpLimits;
pub use error::ApiError;
pub use idempotent::Idempotency;
pub use in_flight::InFlight;
pub use limits::{Limiter, RateLimits, TrustedProxy};
pub use metrics::{Metrics, PoolStats};
pub use parse_errors::ProblemIo;
pub use routes::configure;
pub use seat_map_body::SeatMapBodies;
pub use security::{Argon2Hasher, JwtAccessTokens};
pub use state::{AppState, Readiness};
