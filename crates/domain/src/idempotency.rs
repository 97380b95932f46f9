use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::{DomainError, UserId};

/// How long a stored response answers repeats of its key.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

/// A client's `Idempotency-Key`: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks the contract's rules for a key.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::validation(
                "Idempotency-Key must be 1-255 visible ASCII characters",
            ))
        }
    }

    /// The key as the client sent it.
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

/// The answer kept to answer repeats, opaque to the domain: whoever renders
/// it (the transport) decides what `outcome` and `body` mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The renderer's own number for the kind of answer; not interpreted here.
    pub outcome: u16,
    /// The rendered answer.
    pub body: String,
}

/// A key claimed for one run of a request. The fence is stored in the claim
/// row and changes when another request takes an abandoned claim over, so a
/// run that lost its claim can no longer complete (or release) the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// Whose key, for which endpoint.
    pub scope: IdempotencyScope,
    /// The claim row's fencing value at the time of the claim.
    pub fence: i64,
}

/// Carried into a money transaction: the store completes the claim with the
/// rendered answer before COMMIT, so the answer is kept exactly when the money
/// moved. `render` turns the result into the bytes to keep; what they mean is
/// the caller's business.
pub struct IdempotencyReceipt<T> {
    /// Whose key, for which endpoint.
    pub scope: IdempotencyScope,
    /// The claim's fence: the answer is stored only while it still matches.
    pub fence: i64,
    /// Turns the committed result into the answer to keep.
    pub render: Arc<dyn Fn(&T) -> StoredAnswer + Send + Sync>,
}

impl<T> IdempotencyReceipt<T> {
    /// A receipt for `claim` that keeps `render(result)` as its answer.
    pub fn new(
        claim: &IdempotencyClaim,
        render: Arc<dyn Fn(&T) -> StoredAnswer + Send + Sync>,
    ) -> Self {
        Self {
            scope: claim.scope.clone(),
            fence: claim.fence,
            render,
        }
    }

    /// The answer to keep for `result`.
    pub fn answer(&self, result: &T) -> StoredAnswer {
        (self.render)(result)
    }
}

impl<T> Clone for IdempotencyReceipt<T> {
    fn clone(&self) -> Self {
        Self {
            scope: self.scope.clone(),
            fence: self.fence,
            render: self.render.clone(),
        }
    }
}

impl<T> fmt::Debug for IdempotencyReceipt<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyReceipt")
            .field("scope", &self.scope)
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

/// What a store says when a request with a key arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First time (or an abandoned claim taken over): the caller runs the
    /// request; a money change completes the claim in its own transaction,
    /// any other answer completes or releases it afterwards.
    Started(IdempotencyClaim),
    /// Seen before with the same request: answer with what was answered then.
    Replay(StoredAnswer),
    /// Seen before with a different request: the key cannot be reused.
    Reused,
    /// The first request with this key is still running.
    InFlight,
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

    #[test]
    fn a_receipt_renders_the_result_it_is_given() {
        let claim = IdempotencyClaim {
            scope: IdempotencyScope {
                user_id: UserId(1),
                endpoint: "charge",
                key: IdempotencyKey::parse("k").unwrap(),
            },
            fence: 7,
        };
        let receipt: IdempotencyReceipt<i64> = IdempotencyReceipt::new(
            &claim,
            Arc::new(|n: &i64| StoredAnswer {
                outcome: 200,
                body: n.to_string(),
            }),
        );
        assert_eq!(receipt.fence, 7);
        assert_eq!(receipt.clone().answer(&42).body, "42");
    }
}
