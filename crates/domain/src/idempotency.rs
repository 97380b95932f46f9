use chrono::{DateTime, Duration, Utc};

use crate::{DomainError, UserId};

/// How long a stored response answers repeats of its key.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

/// A client's `Idempotency-Key`: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1–255 visible ASCII characters.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::validation(
                "Idempotency-Key must be 1-255 visible ASCII characters",
            ))
        }
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a key is used: the same key may serve different users and endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope {
    /// Whose request.
    pub user_id: UserId,
    /// Which endpoint (`charge`, `payment`, …).
    pub endpoint: &'static str,
    /// The client's key.
    pub key: IdempotencyKey,
}

/// A response kept to answer repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status first answered.
    pub status: u16,
    /// The body first answered.
    pub body: String,
}

/// What a store says when a request with a key arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First time: the caller runs the request and then completes or releases the key.
    Started,
    /// Seen before with the same request: answer with what was answered then.
    Replay(StoredResponse),
}

impl IdempotencyStart {
    /// The oldest record that still counts at `now`.
    pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::hours(IDEMPOTENCY_WINDOW_HOURS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse("키").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
