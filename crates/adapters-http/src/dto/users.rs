use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Sign-up and login credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// 4–32 characters of `[A-Za-z0-9_.-]`.
    #[schema(
        example = "alice",
        min_length = 4,
        max_length = 32,
        pattern = r"^[A-Za-z0-9_.-]{4,32}$"
    )]
    pub login_id: String,
    /// 8–128 characters.
    #[schema(
        example = "correct-horse",
        min_length = 8,
        max_length = 128,
        pattern = r"^[^\u0000]*$"
    )]
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
    #[schema(pattern = "^Bearer$")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user_id: i64,
}
