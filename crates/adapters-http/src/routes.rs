use actix_web::{error, middleware, web, ResponseError};
use domain::DomainError;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::body_guard::body_guard;
use crate::deadline::deadline;
use crate::fallbacks::{as_problem, no_route};
use crate::handlers::{
    admin, concerts, ops, payments, points, queue, reservations, users, waitlist,
};
use crate::in_flight::in_flight;
use crate::openapi::document;
use crate::telemetry::telemetry;
use crate::{ApiError, AppState};

/// The contract's body limit.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// Registers every route, extractor configuration and the telemetry middleware.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state)
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_JSON_BYTES)
                    .error_handler(|err, _req| json_error(err)),
            )
            .app_data(web::PathConfig::default().error_handler(|err, _req| {
                // Ids are integers: anything else names nothing that exists.
                ApiError::from(DomainError::not_found(format!("no such resource: {err}"))).into()
            }))
            .service(
                web::scope("")
                    .wrap(middleware::ErrorHandlers::new().default_handler(as_problem))
                    .wrap(middleware::from_fn(body_guard))
                    .wrap(middleware::from_fn(deadline))
                    // Outside the deadline and the body: a refused request
                    // costs no timer and no read; inside telemetry, so it is
                    // counted and logged with its request id.
                    .wrap(middleware::from_fn(in_flight))
                    .wrap(crate::telemetry::root_spans())
                    .wrap(middleware::from_fn(telemetry))
                    // gzip (or another encoding the client accepts) for every body.
                    .wrap(middleware::Compress::default())
                    .configure(|cfg| endpoints(&mut ServiceConfig::new(cfg)))
                    .configure(crate::pages::routes)
                    .service(
                        SwaggerUi::new("/swagger-ui/{_:.*}")
                            .url("/api-docs/openapi.json", document().clone()),
                    )
                    .default_service(web::to(no_route)),
            );
    }
}

/// Every endpoint of the API, each registered once: the handler's
/// `#[utoipa::path]` and its actix route travel together, so the server's
/// routes and the OpenAPI document ([`document`]) come from this one list.
pub(crate) fn endpoints(cfg: &mut ServiceConfig) {
    // The hottest reads of a sale first: routes are tried in order, and each
    // pattern with an id is a regex match.
    cfg.service(queue::current_token)
        .service(concerts::seat_map)
        .service(users::sign_up)
        .service(users::log_in)
        .service(concerts::create_concert)
        .service(concerts::list_concerts)
        .service(concerts::list_schedules)
        .service(queue::join_queue)
        .service(reservations::hold_seat)
        .service(reservations::list_reservations)
        .service(reservations::get_reservation)
        .service(reservations::cancel_reservation)
        .service(points::get_balance)
        .service(points::charge)
        .service(points::history)
        .service(payments::pay)
        .service(payments::get_payment)
        .service(payments::refund)
        .service(waitlist::join_waitlist)
        .service(waitlist::list_waitlist)
        .service(waitlist::leave_waitlist)
        .service(admin::control_queue)
        .service(admin::sales)
        .service(ops::live)
        .service(ops::ready)
        .service(ops::metrics);
}

fn json_error(err: error::JsonPayloadError) -> actix_web::Error {
    let api = match &err {
        error::JsonPayloadError::Overflow { .. }
        | error::JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge(format!("JSON bodies are limited to {MAX_JSON_BYTES} bytes"))
        }
        error::JsonPayloadError::ContentType => ApiError::from(DomainError::validation(
            "expected Content-Type: application/json",
        )),
        other => ApiError::from(DomainError::validation(format!("malformed JSON: {other}"))),
    };
    error::InternalError::from_response(err, api.error_response()).into()
}
