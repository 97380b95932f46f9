use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Sign-up and login credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// 4–32 characters of `[A-Za-z0-9_.-]`.
    #[schema(example = "alice")]
    pub login_id: String,
    /// 8–128 characters.
    #[schema(example = "correct-horse")]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    pub user_id: i64,
    pub login_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user_id: i64,
}
