use std::sync::Arc;

use domain::ports::{
    AccessTokens, Clock, IssuedAccessToken, LoginAttempts, PasswordHasher, UserRepository,
};
use domain::user::{LoginThrottle, Password};
use domain::{DomainError, UserId};

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub user_id: UserId,
    pub access_token: IssuedAccessToken,
}

/// Login: throttled per login id, the same answer for unknown user and wrong password.
pub struct LogIn {
    pub users: Arc<dyn UserRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub attempts: Arc<dyn LoginAttempts>,
    pub tokens: Arc<dyn AccessTokens>,
    pub clock: Arc<dyn Clock>,
    pub throttle: LoginThrottle,
}

impl LogIn {
    #[tracing::instrument(skip(self, password))]
    pub async fn execute(&self, login_id: &str, password: &str) -> Result<LoggedIn, DomainError> {
        let now = self.clock.now();
        let failures = self
            .attempts
            .failures_since(login_id, self.throttle.window_start(now))
            .await?;
        self.throttle.check(&failures, now)?;

        let user = self.users.find_by_login_id(login_id).await?;
        let verified = match (&user, Password::parse(password)) {
            (Some(user), Ok(password)) => {
                self.hasher.verify(&password, &user.password_hash).await?
            }
            (None, Ok(password)) => {
                // The work of a wrong password, whatever its outcome.
                let dummy = self.hasher.dummy_hash();
                self.hasher.verify(&password, &dummy).await?;
                false
            }
            (_, Err(_)) => false,
        };
        match user {
            Some(user) if verified => {
                self.attempts.clear(login_id).await?;
                let access_token = self.tokens.issue(user.id, now)?;
                Ok(LoggedIn {
                    user_id: user.id,
                    access_token,
                })
            }
            _ => {
                self.attempts.record_failure(login_id, now).await?;
                Err(DomainError::InvalidCredentials)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::ports::{
        MockAccessTokens, MockClock, MockLoginAttempts, MockPasswordHasher, MockUserRepository,
    };
    use domain::user::User;

    struct Mocks {
        users: MockUserRepository,
        hasher: MockPasswordHasher,
        attempts: MockLoginAttempts,
        tokens: MockAccessTokens,
    }

    fn mocks() -> Mocks {
        let mut users = MockUserRepository::new();
        users.expect_find_by_login_id().returning(|login| {
            Ok((login == "alice").then(|| User {
                id: UserId(7),
                login_id: "alice".into(),
                password_hash: "hash".into(),
            }))
        });
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_verify()
            .returning(|password, _| Ok(password.expose() == "right-password"));
        hasher.expect_dummy_hash().return_const("dummy".to_owned());
        Mocks {
            users,
            hasher,
            attempts: MockLoginAttempts::new(),
            tokens: MockAccessTokens::new(),
        }
    }

    fn use_case(m: Mocks) -> LogIn {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        LogIn {
            users: Arc::new(m.users),
            hasher: Arc::new(m.hasher),
            attempts: Arc::new(m.attempts),
            tokens: Arc::new(m.tokens),
            clock: Arc::new(clock),
            throttle: LoginThrottle::default(),
        }
    }

    #[tokio::test]
    async fn right_password_issues_a_token_and_clears_failures() {
        let mut m = mocks();
        m.attempts
            .expect_failures_since()
            .returning(|_, _| Ok(vec![]));
        m.attempts.expect_clear().times(1).returning(|_| Ok(()));
        m.tokens.expect_issue().returning(|_, _| {
            Ok(IssuedAccessToken {
                token: "jwt".into(),
                expires_in_secs: 3600,
            })
        });
        let logged_in = use_case(m)
            .execute("alice", "right-password")
            .await
            .unwrap();
        assert_eq!(logged_in.user_id, UserId(7));
    }

    #[tokio::test]
    async fn unknown_user_and_wrong_password_look_the_same_and_count() {
        for (login, password) in [("bob", "right-password"), ("alice", "wrong-password")] {
            let mut m = mocks();
            m.attempts
                .expect_failures_since()
                .returning(|_, _| Ok(vec![]));
            m.attempts
                .expect_record_failure()
                .times(1)
                .returning(|_, _| Ok(()));
            let err = use_case(m).execute(login, password).await.unwrap_err();
            assert_eq!(err, DomainError::InvalidCredentials);
        }
    }

    #[tokio::test]
    async fn an_unknown_login_id_still_runs_the_hasher_on_the_dummy_hash() {
        let mut m = mocks();
        m.hasher = MockPasswordHasher::new();
        m.hasher
            .expect_dummy_hash()
            .times(1)
            .return_const("dummy-hash".to_owned());
        // Even a (impossible) match on the dummy must not log anyone in.
        m.hasher
            .expect_verify()
            .withf(|password, hash| password.expose() == "some-password" && hash == "dummy-hash")
            .times(1)
            .returning(|_, _| Ok(true));
        m.attempts
            .expect_failures_since()
            .returning(|_, _| Ok(vec![]));
        m.attempts
            .expect_record_failure()
            .times(1)
            .returning(|_, _| Ok(()));
        let err = use_case(m)
            .execute("nobody", "some-password")
            .await
            .unwrap_err();
        assert_eq!(err, DomainError::InvalidCredentials);
    }

    #[tokio::test]
    async fn five_recent_failures_refuse_even_the_right_password() {
        let mut m = mocks();
        m.attempts.expect_failures_since().returning(|_, _| {
            Ok((0..5)
                .map(|i| Utc::now() - Duration::seconds(60 - i))
                .collect())
        });
        let err = use_case(m)
            .execute("alice", "right-password")
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::TooManyAttempts { .. }));
    }
}
