use std::sync::Arc;

use domain::idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyScope, IdempotencyStart, StoredResponse,
};
use domain::ports::{Clock, IdempotencyStore};
use domain::{DomainError, UserId};

/// Idempotency-Key handling for the money endpoints: claim the key, run the
/// request once, keep its answer for repeats. A success that moved money is
/// kept by the store inside the money transaction (the claim travels as an
/// `IdempotencyReceipt`); `finish` keeps every other answer afterwards.
pub struct Idempotency {
    pub store: Arc<dyn IdempotencyStore>,
    pub clock: Arc<dyn Clock>,
}

impl Idempotency {
    /// Claims `key` for this request, or returns the answer to replay.
    pub async fn start(
        &self,
        user_id: UserId,
        endpoint: &'static str,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyStart, DomainError> {
        let scope = IdempotencyScope {
            user_id,
            endpoint,
            key: IdempotencyKey::parse(key)?,
        };
        self.store
            .start(&scope, request_hash, self.clock.now())
            .await
    }

    /// Keeps the answer of a request that ran to a definite outcome without
    /// moving money (a crash before this only means the retry runs again). A
    /// server failure (5xx) or a transient conflict releases the key instead,
    /// so that the retry runs again rather than replaying a non-final failure.
    pub async fn finish(
        &self,
        claim: &IdempotencyClaim,
        response: StoredResponse,
        transient: bool,
    ) {
        let result = if transient || response.status >= 500 {
            self.store.release(claim).await
        } else {
            self.store.complete(claim, &response).await
        };
        if let Err(error) = result {
            tracing::warn!(%error, "idempotency record could not be finished");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockIdempotencyStore};

    fn use_case(store: MockIdempotencyStore) -> Idempotency {
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        Idempotency {
            store: Arc::new(store),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn bad_key_is_refused_before_the_store() {
        let err = use_case(MockIdempotencyStore::new())
            .start(UserId(1), "charge", "has space", "h")
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Validation(_)));
    }

    #[tokio::test]
    async fn server_failures_release_definite_answers_complete() {
        let mut store = MockIdempotencyStore::new();
        store.expect_release().times(1).returning(|_| Ok(()));
        store.expect_complete().times(1).returning(|_, _| Ok(()));
        let uc = use_case(store);
        let claim = IdempotencyClaim {
            scope: IdempotencyScope {
                user_id: UserId(1),
                endpoint: "payment",
                key: IdempotencyKey::parse("k").unwrap(),
            },
            fence: 1,
        };
        uc.finish(
            &claim,
            StoredResponse {
                status: 503,
                body: "{}".into(),
            },
            false,
        )
        .await;
        uc.finish(
            &claim,
            StoredResponse {
                status: 409,
                body: "{}".into(),
            },
            false,
        )
        .await;
    }
}
