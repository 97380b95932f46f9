use chrono::{DateTime, Duration, Utc};

use crate::{DomainError, UserId};

/// A login name: 4–32 characters of `[A-Za-z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginId(String);

impl LoginId {
    /// Accepts 4–32 characters of `[A-Za-z0-9_.-]`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if (4..=32).contains(&raw.len()) && valid_chars {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::validation(
                "loginId must be 4-32 characters of A-Z, a-z, 0-9, '_', '.', '-'",
            ))
        }
    }

    /// The login id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain-text password on its way to the hasher; never logged or stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// 8–128 characters (not bytes: a Korean passphrase counts by characters).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if (8..=128).contains(&raw.chars().count()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::validation("password must be 8-128 characters"))
        }
    }

    /// The password itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A registered user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its login id.
    pub login_id: String,
    /// The Argon2id hash of its password.
    pub password_hash: String,
}

/// Failed-login throttling: after `max_failures` failures for one login id
/// within `window`, every attempt is refused until the window has passed.
#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    /// Failures that lock the login id.
    pub max_failures: usize,
    /// How far back failures count.
    pub window: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
        }
    }
}

impl LoginThrottle {
    /// The oldest failure that still counts at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Refuses the attempt when the recent failures (oldest first) reach the
    /// limit; the refusal lasts until the oldest counted failure leaves the window.
    pub fn check(
        &self,
        recent_failures: &[DateTime<Utc>],
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let start = self.window_start(now);
        let counted: Vec<_> = recent_failures.iter().filter(|at| **at > start).collect();
        if counted.len() < self.max_failures {
            return Ok(());
        }
        // The lock lifts when enough failures have aged out to drop below the limit.
        let release_at = *counted[counted.len() - self.max_failures] + self.window;
        let retry_after_secs = (release_at - now).num_seconds().max(1) as u64;
        Err(DomainError::TooManyAttempts { retry_after_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_id_rules() {
        assert!(LoginId::parse("abc").is_err());
        assert!(LoginId::parse("abcd").is_ok());
        assert!(LoginId::parse("a.b_c-D9").is_ok());
        assert!(LoginId::parse("has space").is_err());
        assert!(LoginId::parse("한글아이디").is_err());
        assert!(LoginId::parse(&"a".repeat(32)).is_ok());
        assert!(LoginId::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn password_counts_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"가".repeat(128)).is_ok());
        assert!(Password::parse(&"a".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret123").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn throttle_locks_after_five_failures_until_window_ends() {
        let throttle = LoginThrottle::default();
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let failures: Vec<_> = (0..5).map(|i| t0 + Duration::seconds(i)).collect();
        assert!(throttle
            .check(&failures[..4], t0 + Duration::seconds(10))
            .is_ok());
        let err = throttle
            .check(&failures, t0 + Duration::seconds(10))
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::TooManyAttempts {
                retry_after_secs: 890
            }
        );
        // The first failure leaves the window after 15 minutes: four remain.
        assert!(throttle
            .check(&failures, t0 + Duration::minutes(15))
            .is_ok());
    }
}
