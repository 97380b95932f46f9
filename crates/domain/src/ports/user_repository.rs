use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::user::{LoginId, User};
use crate::{DomainError, UserId};

/// Registered users.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// [`DomainError::LoginIdTaken`] when the login id exists already.
    async fn create(
        &self,
        login_id: &LoginId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DomainError>;
    /// The user with this login id, if any.
    async fn find_by_login_id(&self, login_id: &str) -> Result<Option<User>, DomainError>;
    /// Whether a user with this id exists (a token may outlive its user's row).
    async fn exists(&self, id: UserId) -> Result<bool, DomainError>;
}
