//! What the application answers when no handler does: 405 with `Allow` for
//! a known path, 404 otherwise, and problem+json for any error actix-web
//! itself produced (extractor and routing errors).

use std::sync::OnceLock;

use crate::openapi::document;
use crate::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

/// Each documented path and the methods it answers, from the OpenAPI
/// document, itself built from the route list.
fn routes() -> &'static [(ResourceDef, String)] {
    static ROUTES: OnceLock<Vec<(ResourceDef, String)>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods.join(", "))
            })
            .collect()
    })
}

/// The methods `path` answers, if it is a known path.
fn allowed(path: &str) -> Option<&'static str> {
    routes()
        .iter()
        .find(|(def, _)| def.is_match(path))
        .map(|(_, methods)| methods.as_str())
}

/// The default service: no route took the request.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    match allowed(req.path()) {
        Some(methods) => {
            let mut response = ApiError::Http(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} does not answer {}; it answers {methods}",
                    req.path(),
                    req.method()
                ),
            )
            .error_response();
            if let Ok(value) = HeaderValue::from_str(methods) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => ApiError::RouteNotFound(format!("no route for {} {}", req.method(), req.path()))
            .error_response(),
    }
}

/// Turns an error response that is not problem+json yet into one, keeping
/// its status and headers (`Allow`, `Retry-After`).
pub fn as_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut problem = ApiError::Http(
        status,
        status.canonical_reason().unwrap_or("error").to_owned(),
    )
    .error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}
