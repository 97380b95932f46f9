//! Extractors: who is calling (access token) and with which queue token.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use domain::UserId;
use futures::future::LocalBoxFuture;

use crate::{ApiError, AppState};

/// The authenticated caller, from `Authorization: Bearer …` or the
/// `access_token` cookie. Missing, malformed or expired: 401 UNAUTHENTICATED.
pub struct AuthUser(pub UserId);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bearer = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let token = bearer.or_else(|| req.cookie("access_token").map(|c| c.value().to_owned()));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or(ApiError::Internal("application state missing"))?;
            Ok(AuthUser(
                state.authenticate.execute(token.as_deref()).await?,
            ))
        })
    }
}

/// The `X-Queue-Token` header, if any; the queue guard decides what it is worth.
pub struct QueueTokenHeader(pub Option<String>);

impl QueueTokenHeader {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequest for QueueTokenHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get("x-queue-token")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned());
        ready(Ok(Self(token)))
    }
}

/// A caller that presented the configured `X-Admin-Key`. It comes first among
/// an admin handler's arguments, so a caller without the key is refused (403
/// ADMIN_KEY_INVALID) before the body is parsed and learns nothing of its rules.
pub struct AdminCaller;

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = req
            .headers()
            .get("x-admin-key")
            .and_then(|v| v.to_str().ok());
        let checked = match req.app_data::<web::Data<AppState>>() {
            Some(state) => state.admin.check(presented).map_err(ApiError::from),
            None => Err(ApiError::Internal("application state is not configured")),
        };
        ready(checked.map(|()| AdminCaller))
    }
}
