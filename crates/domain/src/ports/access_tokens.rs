use chrono::{DateTime, Utc};

use crate::{DomainError, UserId};

/// A signed access token and how many seconds it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    /// The bearer token.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in_secs: u64,
}

/// Issues and verifies signed access tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// A token for `user_id`, valid from `now`.
    fn issue(&self, user_id: UserId, now: DateTime<Utc>) -> Result<IssuedAccessToken, DomainError>;
    /// The user the token was issued to; `None` for a malformed, forged or
    /// expired token.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<UserId>;
}
