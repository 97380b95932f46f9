use std::sync::Arc;

use domain::ports::{Clock, PasswordHasher, UserRepository};
use domain::user::{LoginId, Password, User};
use domain::DomainError;

/// Sign-up: validates the credentials and stores only their Argon2id hash.
pub struct RegisterUser {
    pub users: Arc<dyn UserRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
}

impl RegisterUser {
    #[tracing::instrument(skip(self, password))]
    pub async fn execute(&self, login_id: &str, password: &str) -> Result<User, DomainError> {
        let login_id = LoginId::parse(login_id)?;
        let password = Password::parse(password)?;
        let hash = self.hasher.hash(&password).await?;
        self.users.create(&login_id, &hash, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockPasswordHasher, MockUserRepository};
    use domain::UserId;

    fn use_case(users: MockUserRepository, hasher: MockPasswordHasher) -> RegisterUser {
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        RegisterUser {
            users: Arc::new(users),
            hasher: Arc::new(hasher),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn stores_the_hash_not_the_password() {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("argon2-hash".into()));
        let mut users = MockUserRepository::new();
        users
            .expect_create()
            .withf(|login, hash, _| login.as_str() == "alice" && hash == "argon2-hash")
            .returning(|login, hash, _| {
                Ok(User {
                    id: UserId(1),
                    login_id: login.as_str().into(),
                    password_hash: hash.into(),
                })
            });
        let user = use_case(users, hasher)
            .execute("alice", "password1")
            .await
            .unwrap();
        assert_eq!(user.id, UserId(1));
    }

    #[tokio::test]
    async fn invalid_input_never_reaches_the_store() {
        let uc = use_case(MockUserRepository::new(), MockPasswordHasher::new());
        assert!(matches!(
            uc.execute("ab", "password1").await,
            Err(DomainError::Validation(_))
        ));
        assert!(matches!(
            uc.execute("alice", "short").await,
            Err(DomainError::Validation(_))
        ));
    }

    #[tokio::test]
    async fn taken_login_id_is_reported() {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("h".into()));
        let mut users = MockUserRepository::new();
        users
            .expect_create()
            .returning(|_, _, _| Err(DomainError::LoginIdTaken));
        let err = use_case(users, hasher)
            .execute("alice", "password1")
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::LoginIdTaken);
    }
}
