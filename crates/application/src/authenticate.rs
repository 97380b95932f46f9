use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use domain::ports::{AccessTokens, Clock, UserRepository};
use domain::UserId;

use crate::AppError;

/// How long a confirmed user id is trusted without asking the store again.
/// Users are never deleted by the service; this bounds how long a database
/// reset under a running instance can go unnoticed.
pub const KNOWN_USER_TTL: Duration = Duration::seconds(10);

/// Entries past which the cache is simply emptied (it refills on demand).
const KNOWN_USERS_MAX: usize = 100_000;

/// Turns a presented access token into the user it was issued to, if that
/// user still exists: a token signed with a shared secret outlives a database
/// reset, and must then answer 401 rather than reach a store.
pub struct Authenticate {
    pub tokens: Arc<dyn AccessTokens>,
    pub users: Arc<dyn UserRepository>,
    pub clock: Arc<dyn Clock>,
    /// User ids confirmed to exist, and when.
    pub known: KnownUsers,
}

/// A per-instance memory of user ids the store confirmed recently.
#[derive(Default)]
pub struct KnownUsers(Mutex<HashMap<UserId, DateTime<Utc>>>);

impl KnownUsers {
    fn fresh(&self, id: UserId, now: DateTime<Utc>) -> bool {
        self.0
            .lock()
            .map(|known| known.get(&id).is_some_and(|at| now - *at < KNOWN_USER_TTL))
            .unwrap_or(false)
    }

    fn confirm(&self, id: UserId, now: DateTime<Utc>) {
        if let Ok(mut known) = self.0.lock() {
            if known.len() >= KNOWN_USERS_MAX {
                known.clear();
            }
            known.insert(id, now);
        }
    }
}

impl Authenticate {
    pub async fn execute(&self, token: Option<&str>) -> Result<UserId, AppError> {
        let token = token.ok_or(AppError::Unauthenticated)?;
        let now = self.clock.now();
        let user_id = self
            .tokens
            .verify(token, now)
            .ok_or(AppError::Unauthenticated)?;
        if self.known.fresh(user_id, now) {
            return Ok(user_id);
        }
        if !self.users.exists(user_id).await? {
            return Err(AppError::Unauthenticated);
        }
        self.known.confirm(user_id, now);
        Ok(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockAccessTokens, MockClock, MockUserRepository};
    use domain::StoreError;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn use_case(users: MockUserRepository, offset_secs: Arc<AtomicI64>) -> Authenticate {
        let mut tokens = MockAccessTokens::new();
        tokens.expect_verify().returning(|t, _| match t {
            "good" => Some(UserId(3)),
            "gone" => Some(UserId(4)),
            _ => None,
        });
        let start = Utc::now();
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || start + Duration::seconds(offset_secs.load(Ordering::SeqCst)));
        Authenticate {
            tokens: Arc::new(tokens),
            users: Arc::new(users),
            clock: Arc::new(clock),
            known: KnownUsers::default(),
        }
    }

    #[tokio::test]
    async fn missing_bad_or_orphaned_tokens_are_unauthenticated() {
        let mut users = MockUserRepository::new();
        users.expect_exists().returning(|id| Ok(id == UserId(3)));
        let uc = use_case(users, Arc::default());
        assert_eq!(uc.execute(Some("good")).await, Ok(UserId(3)));
        assert_eq!(
            uc.execute(Some("gone")).await,
            Err(AppError::Unauthenticated)
        );
        assert_eq!(
            uc.execute(Some("bad")).await,
            Err(AppError::Unauthenticated)
        );
        assert_eq!(uc.execute(None).await, Err(AppError::Unauthenticated));
    }

    #[tokio::test]
    async fn a_confirmed_user_is_asked_for_again_only_after_the_ttl() {
        let offset = Arc::new(AtomicI64::new(0));
        let mut users = MockUserRepository::new();
        // Twice: once at first sight, once after the TTL (a reset is caught then).
        users.expect_exists().times(2).returning(|_| Ok(true));
        let uc = use_case(users, offset.clone());
        for _ in 0..5 {
            assert_eq!(uc.execute(Some("good")).await, Ok(UserId(3)));
        }
        offset.store(KNOWN_USER_TTL.num_seconds(), Ordering::SeqCst);
        assert_eq!(uc.execute(Some("good")).await, Ok(UserId(3)));
    }

    #[tokio::test]
    async fn a_store_outage_is_not_a_401() {
        let mut users = MockUserRepository::new();
        users
            .expect_exists()
            .returning(|_| Err(StoreError::unavailable("down").into()));
        let uc = use_case(users, Arc::default());
        assert!(matches!(
            uc.execute(Some("good")).await,
            Err(AppError::Domain(domain::DomainError::Store(
                StoreError::Unavailable(_)
            )))
        ));
    }
}
