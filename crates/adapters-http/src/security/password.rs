use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use domain::ports::PasswordHasher;
use domain::user::Password;
use domain::{DomainError, StoreError};
use tokio::sync::Semaphore;

/// Argon2id with the crate's recommended parameters (19 MiB, 2 passes).
///
/// Hashing runs on the blocking pool: it is slow on purpose. At most
/// `max_concurrent` hashes run at a time, whatever the core count, and each
/// reuses one of that many 19 MiB work areas: memory stays bounded at
/// `max_concurrent × 19 MiB` however many sign-ups and logins arrive (a fresh
/// area per hash let the allocator keep a gigabyte after a few hundred).
#[derive(Clone)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    /// Work areas not in use; never more than `max_concurrent`.
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
    /// A hash of random bytes nobody knows, with the parameters of every real one.
    dummy: Arc<str>,
}

/// The default cap on hashes in flight.
pub const DEFAULT_MAX_CONCURRENT_HASHES: usize = 2;

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CONCURRENT_HASHES)
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> DomainError {
    DomainError::Store(StoreError::internal(format!("password {what}: {e}")))
}

impl Argon2Hasher {
    /// A hasher running at most `max_concurrent` (at least 1) hashes at once.
    pub fn new(max_concurrent: usize) -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let salt = SaltString::generate(&mut OsRng);
        // Runs once at start-up, on input no request influences.
        let dummy = Argon2::default()
            .hash_password(&secret, &salt)
            .expect("argon2 hashes 32 bytes with its default parameters")
            .to_string();
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            areas: Arc::default(),
            dummy: dummy.into(),
        }
    }

    /// Runs `work` on the blocking pool with a work area, once a slot is free.
    async fn in_a_slot<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit = self.permits.acquire().await.map_err(StoreError::internal)?;
        let mut area = self
            .areas
            .lock()
            .ok()
            .and_then(|mut areas| areas.pop())
            .unwrap_or_default();
        let (result, area) = tokio::task::spawn_blocking(move || {
            let result = work(&mut area);
            (result, area)
        })
        .await
        .map_err(StoreError::internal)?;
        if let Ok(mut areas) = self.areas.lock() {
            areas.push(area);
        }
        result
    }
}

/// Computes the hash of `password` as `phc` describes it (algorithm, version,
/// parameters, salt), in `area`.
fn compute(
    password: &[u8],
    phc: &PasswordHash<'_>,
    area: &mut Vec<Block>,
) -> Result<Output, DomainError> {
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(|e| failed("algorithm", e))?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| failed("version", e))?
        .unwrap_or_default();
    let params = Params::try_from(phc).map_err(|e| failed("parameters", e))?;
    let salt = phc.salt.ok_or_else(|| failed("salt", "missing"))?;
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| failed("salt", e))?;
    let len = phc.hash.map_or(Params::DEFAULT_OUTPUT_LEN, |h| h.len());
    // Grows only for a stored hash with more memory than today's parameters.
    if area.len() < params.block_count() {
        area.resize(params.block_count(), Block::default());
    }
    let argon = Argon2::new(algorithm, version, params);
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut area[..])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| failed("hashing", e))
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        self.in_a_slot(move |area| {
            let salt = SaltString::generate(&mut OsRng);
            let params = Params::default();
            let mut phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(|e| failed("parameters", e))?,
                salt: Some(salt.as_salt()),
                hash: None,
            };
            phc.hash = Some(compute(password.expose().as_bytes(), &phc, area)?);
            Ok(phc.to_string())
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, DomainError> {
        let (password, hash) = (password.clone(), hash.to_owned());
        self.in_a_slot(move |area| {
            let phc = PasswordHash::new(&hash).map_err(|e| failed("stored hash", e))?;
            let expected = phc.hash.ok_or_else(|| failed("stored hash", "no output"))?;
            // Output's equality is constant-time.
            Ok(compute(password.expose().as_bytes(), &phc, area)? == expected)
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
    use argon2::password_hash::PasswordVerifier;

    #[tokio::test]
    async fn hash_verifies_only_the_same_password() {
        let hasher = Argon2Hasher::default();
        let password = Password::parse("correct-horse").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
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

    #[tokio::test]
    async fn same_hashes_as_the_argon2_crate_both_ways() {
        let hasher = Argon2Hasher::new(1);
        let password = Password::parse("correct-horse").unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct-horse", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct-horse", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify(&password, &theirs).await.unwrap());
    }

    #[tokio::test]
    async fn work_areas_are_reused_not_multiplied() {
        let hasher = Argon2Hasher::new(2);
        let password = Password::parse("correct-horse").unwrap();
        let hashes: Vec<_> =
            futures::future::join_all((0..6).map(|_| hasher.hash(&password))).await;
        assert!(hashes.iter().all(Result::is_ok));
        assert!(hasher.areas.lock().unwrap().len() <= 2);
    }
}
