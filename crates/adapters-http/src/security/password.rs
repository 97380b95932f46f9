use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::Arc;

use async_trait::async_trait;
use domain::ports::PasswordHasher;
use domain::user::Password;
use domain::DomainError;
use tokio::sync::Semaphore;

/// Argon2id with the crate's recommended parameters (19 MiB, 2 passes).
/// Hashing runs on the blocking pool: it is slow on purpose. At most one
/// hash per core runs at a time: a login storm then queues for the CPU
/// instead of starving every other request (and the database pool) of it.
#[derive(Clone)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    /// A hash of random bytes nobody knows, with the parameters of every real one.
    dummy: Arc<str>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let salt = SaltString::generate(&mut OsRng);
        // Runs once at start-up, on input no request influences.
        let dummy = Argon2::default()
            .hash_password(&secret, &salt)
            .expect("argon2 hashes 32 bytes with its default parameters")
            .to_string();
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: dummy.into(),
        }
    }
}

impl Argon2Hasher {
    /// Runs `work` on the blocking pool once a core is free.
    async fn on_a_core<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        self.on_a_core(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, DomainError> {
        let (password, hash) = (password.clone(), hash.to_owned());
        self.on_a_core(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| DomainError::Internal(format!("stored hash: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    fn dummy_hash(&self) -> String {
        self.dummy.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_only_the_same_password() {
        let hasher = Argon2Hasher::default();
        let password = Password::parse("correct-horse").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(&password, &hash).await.unwrap());
        let wrong = Password::parse("wrong-horse").unwrap();
        assert!(!hasher.verify(&wrong, &hash).await.unwrap());
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_parameters_of_real_ones_and_matches_nothing() {
        let hasher = Argon2Hasher::default();
        let password = Password::parse("correct-horse").unwrap();
        let real = hasher.hash(&password).await.unwrap();
        let dummy = hasher.dummy_hash();
        let (real, parsed) = (
            PasswordHash::new(&real).unwrap(),
            PasswordHash::new(&dummy).unwrap(),
        );
        assert_eq!(parsed.algorithm, real.algorithm);
        assert_eq!(parsed.version, real.version);
        assert_eq!(parsed.params, real.params, "same memory, passes, lanes");
        assert_eq!(parsed.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!hasher.verify(&password, &dummy).await.unwrap());
    }
}
