use async_trait::async_trait;

use crate::user::Password;
use crate::DomainError;

/// A slow, salted password hash. Async because hashing is deliberately
/// expensive and must not block the request executor.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A new salted hash of `password`.
    async fn hash(&self, password: &Password) -> Result<String, DomainError>;
    /// Whether `password` matches `hash`.
    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, DomainError>;
    /// A hash made with the same parameters that no password matches: an
    /// unknown login id is verified against it, so it costs what a wrong
    /// password does and timing does not tell which accounts exist.
    fn dummy_hash(&self) -> String;
}
