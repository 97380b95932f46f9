use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use domain::ports::PasswordHasher;
use domain::user::Password;
use domain::DomainError;

/// Argon2id with the crate's recommended parameters (19 MiB, 2 passes).
/// Hashing runs on the blocking pool: it is slow on purpose.
#[derive(Clone, Default)]
pub struct Argon2Hasher;

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| DomainError::Internal(e.to_string()))?
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, DomainError> {
        let (password, hash) = (password.clone(), hash.to_owned());
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| DomainError::Internal(format!("stored hash: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|e| DomainError::Internal(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_only_the_same_password() {
        let hasher = Argon2Hasher;
        let password = Password::parse("correct-horse").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(&password, &hash).await.unwrap());
        let wrong = Password::parse("wrong-horse").unwrap();
        assert!(!hasher.verify(&wrong, &hash).await.unwrap());
    }
}
