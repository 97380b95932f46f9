use actix_web::cookie::{Cookie, SameSite};
use actix_web::{post, web, HttpResponse};

use crate::dto::{AccessTokenResponse, Credentials, UserCreated};
use crate::limits::{self, RateLimited};
use crate::{ApiError, AppState};

/// Sign up.
#[utoipa::path(
    tag = "users",
    request_body = Credentials,
    responses(
        (status = 201, body = UserCreated),
        (status = 400, description = "VALIDATION_FAILED"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 409, description = "LOGIN_ID_TAKEN"),
        (status = 429, description = "TOO_MANY_REQUESTS: the per-address sign-up limit (config limits.signup_per_minute); Retry-After tells when"),
    )
)]
#[post("/api/v1/users")]
pub async fn sign_up(
    _limit: RateLimited<limits::SignUp>,
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .register_user
        .execute(&body.login_id, &body.password)
        .await?;
    Ok(HttpResponse::Created().json(UserCreated {
        user_id: user.id.0,
        login_id: user.login_id,
    }))
}

/// Log in: an access token in the body and as an HttpOnly cookie.
///
/// The cookie is not marked `Secure` so that it also works on plain-HTTP
/// development set-ups; terminate TLS in front of the service in production.
#[utoipa::path(
    tag = "users",
    request_body = Credentials,
    responses(
        (status = 200, body = AccessTokenResponse, headers(("Set-Cookie" = String, description = "access_token=…; HttpOnly; SameSite=Strict; Path=/"))),
        (status = 400, description = "VALIDATION_FAILED (malformed body)"),
        (status = 413, description = "PAYLOAD_TOO_LARGE: JSON body over 16 KiB"),
        (status = 401, description = "INVALID_CREDENTIALS: the same for unknown user and wrong password"),
        (status = 429, description = "TOO_MANY_ATTEMPTS: 5 failures for the loginId within 15 minutes; or TOO_MANY_REQUESTS: the per-address login limit (config limits.login_per_minute). Retry-After tells when"),
    )
)]
#[post("/api/v1/auth/token")]
pub async fn log_in(
    _limit: RateLimited<limits::LogIn>,
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let logged_in = state.log_in.execute(&body.login_id, &body.password).await?;
    let token = logged_in.access_token;
    let cookie = Cookie::build("access_token", token.token.clone())
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(actix_web::cookie::time::Duration::seconds(
            token.expires_in_secs as i64,
        ))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(AccessTokenResponse {
        access_token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in_secs,
        user_id: logged_in.user_id.0,
    }))
}
