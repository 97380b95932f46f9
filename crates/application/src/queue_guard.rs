use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use domain::ports::{Clock, QueueStore};
use domain::queue::{admitted, Admission, QueueTicket};
use domain::{ConcertId, DomainError, UserId};

/// Entries past which the admissions memory is simply emptied (it refills on demand).
const RECENT_ADMISSIONS_MAX: usize = 100_000;

/// A per-instance memory of tokens the store answered ACTIVE, for reads that
/// may lag the store by a moment (the seat map): a hot read then needs no
/// store round trip, which on SQLite would wait for its one connection.
///
/// Only admissions are remembered, for at most `ttl` and never past the
/// token's own window, so a token ended elsewhere (expiry, payment, another
/// instance) stops opening these reads within `ttl`, as another instance's
/// seat changes show within the seat-map cache's TTL. Refusals are never
/// remembered: a caller still waiting is asked about afresh. Decisions that
/// change something (hold, payment) use [`QueueGuard::check`] and never this.
pub struct RecentAdmissions {
    ttl: Duration,
    tokens: Mutex<HashMap<String, Admitted>>,
}

#[derive(Clone, Copy)]
struct Admitted {
    user_id: UserId,
    concert_id: ConcertId,
    /// The earlier of the token's window end and the end of this memory's trust.
    until: DateTime<Utc>,
}

impl RecentAdmissions {
    /// Remembers admissions for `ttl`; zero turns the memory off.
    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            ttl: Duration::from_std(ttl).unwrap_or(Duration::zero()),
            tokens: Mutex::default(),
        }
    }

    fn admitted(&self, token: &str, now: DateTime<Utc>) -> Option<Admitted> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).copied().filter(|a| now < a.until)
    }

    fn remember(&self, token: &str, admitted: Admitted) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= RECENT_ADMISSIONS_MAX {
            tokens.clear();
        }
        tokens.insert(token.to_owned(), admitted);
    }
}

/// Lets a request through only with the caller's ACTIVE token for the concert.
pub struct QueueGuard {
    pub queue: Arc<dyn QueueStore>,
    pub clock: Arc<dyn Clock>,
}

impl QueueGuard {
    pub async fn check(
        &self,
        user_id: UserId,
        token: Option<&str>,
        concert_id: ConcertId,
    ) -> Result<(), DomainError> {
        let token = token.ok_or(DomainError::QueueTokenInvalid)?;
        self.ticket(user_id, token, concert_id, self.clock.now())
            .await
            .map(|_| ())
    }

    /// The caller's own ticket for the concert if it is ACTIVE, else the refusal.
    async fn ticket(
        &self,
        user_id: UserId,
        token: &str,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<QueueTicket, DomainError> {
        let ticket = self
            .queue
            .find(token, now)
            .await?
            .filter(|t| t.user_id == user_id && t.concert_id == concert_id)
            .ok_or(DomainError::QueueTokenInvalid)?;
        admitted(Some(ticket.status)).map(|()| ticket)
    }

    /// [`Self::check`] for a write: when the queue shares the write's
    /// database, the store checks the token inside the write itself (no
    /// round trip here); otherwise the queue port is asked now.
    pub async fn admission<'a>(
        &self,
        user_id: UserId,
        token: Option<&'a str>,
        concert_id: ConcertId,
    ) -> Result<Admission<'a>, DomainError> {
        let token = token.ok_or(DomainError::QueueTokenInvalid)?;
        if self.queue.shared_with_writes() {
            return Ok(Admission::InWrite(token));
        }
        self.ticket(user_id, token, concert_id, self.clock.now())
            .await
            .map(|_| Admission::Checked)
    }

    /// [`Self::check`] for reads that may lag the store by up to the memory's
    /// TTL: an admission the store confirmed within it is trusted again.
    pub async fn check_recent(
        &self,
        recent: &RecentAdmissions,
        user_id: UserId,
        token: Option<&str>,
        concert_id: ConcertId,
    ) -> Result<(), DomainError> {
        let token = token.ok_or(DomainError::QueueTokenInvalid)?;
        let now = self.clock.now();
        if let Some(known) = recent.admitted(token, now) {
            return if known.user_id == user_id && known.concert_id == concert_id {
                Ok(())
            } else {
                Err(DomainError::QueueTokenInvalid)
            };
        }
        let ticket = self.ticket(user_id, token, concert_id, now).await?;
        let trusted = now + recent.ttl;
        recent.remember(
            token,
            Admitted {
                user_id,
                concert_id,
                until: ticket.expires_at.map_or(trusted, |end| end.min(trusted)),
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockClock, MockQueueStore};
    use domain::queue::{QueueStatus, QueueTicket};

    fn guard(status: QueueStatus) -> QueueGuard {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(move |token, _| {
            Ok((token == "known")
                .then(|| QueueTicket::stub(token, UserId(1), ConcertId(1), status)))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        QueueGuard {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn every_refusal() {
        use DomainError::{QueueTokenInvalid as Invalid, QueueTokenNotActive as NotActive};
        let active = guard(QueueStatus::Active);
        assert_eq!(
            active.check(UserId(1), Some("known"), ConcertId(1)).await,
            Ok(())
        );
        assert_eq!(
            active.check(UserId(1), None, ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(1), Some("unknown"), ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(2), Some("known"), ConcertId(1)).await,
            Err(Invalid)
        );
        assert_eq!(
            active.check(UserId(1), Some("known"), ConcertId(2)).await,
            Err(Invalid)
        );
        let waiting = guard(QueueStatus::Waiting);
        assert_eq!(
            waiting.check(UserId(1), Some("known"), ConcertId(1)).await,
            Err(NotActive)
        );
        let prequeued = guard(QueueStatus::PreQueue);
        assert_eq!(
            prequeued
                .check(UserId(1), Some("known"), ConcertId(1))
                .await,
            Err(NotActive)
        );
        let expired = guard(QueueStatus::Expired);
        assert_eq!(
            expired.check(UserId(1), Some("known"), ConcertId(1)).await,
            Err(Invalid)
        );
    }

    fn counted_guard(
        status: QueueStatus,
        lookups: Arc<std::sync::atomic::AtomicUsize>,
        now: Arc<Mutex<DateTime<Utc>>>,
    ) -> QueueGuard {
        let mut queue = MockQueueStore::new();
        queue.expect_find().returning(move |token, _| {
            lookups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Some(QueueTicket::stub(
                token,
                UserId(1),
                ConcertId(1),
                status,
            )))
        });
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || *now.lock().expect("clock"));
        QueueGuard {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn recent_admissions_are_trusted_for_the_ttl_only() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let lookups = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(Mutex::new(Utc::now()));
        let guard = counted_guard(QueueStatus::Active, lookups.clone(), now.clone());
        let recent = RecentAdmissions::new(std::time::Duration::from_millis(200));
        for _ in 0..3 {
            assert_eq!(
                guard
                    .check_recent(&recent, UserId(1), Some("t"), ConcertId(1))
                    .await,
                Ok(())
            );
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
        // Someone else's token, or another concert's, is refused from memory too.
        assert_eq!(
            guard
                .check_recent(&recent, UserId(2), Some("t"), ConcertId(1))
                .await,
            Err(DomainError::QueueTokenInvalid)
        );
        assert_eq!(
            guard
                .check_recent(&recent, UserId(1), Some("t"), ConcertId(2))
                .await,
            Err(DomainError::QueueTokenInvalid)
        );
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
        *now.lock().expect("clock") += Duration::milliseconds(200);
        assert_eq!(
            guard
                .check_recent(&recent, UserId(1), Some("t"), ConcertId(1))
                .await,
            Ok(())
        );
        assert_eq!(lookups.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn refusals_and_a_zero_ttl_are_never_remembered() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let lookups = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(Mutex::new(Utc::now()));
        let waiting = counted_guard(QueueStatus::Waiting, lookups.clone(), now.clone());
        let recent = RecentAdmissions::new(std::time::Duration::from_secs(60));
        for _ in 0..2 {
            assert_eq!(
                waiting
                    .check_recent(&recent, UserId(1), Some("t"), ConcertId(1))
                    .await,
                Err(DomainError::QueueTokenNotActive)
            );
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 2);
        let active = counted_guard(QueueStatus::Active, lookups.clone(), now);
        let off = RecentAdmissions::new(std::time::Duration::ZERO);
        for _ in 0..2 {
            assert_eq!(
                active
                    .check_recent(&off, UserId(1), Some("t"), ConcertId(1))
                    .await,
                Ok(())
            );
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_write_on_the_queue_database_checks_the_token_itself() {
        let mut queue = MockQueueStore::new();
        queue.expect_shared_with_writes().return_const(true);
        // No expectation on `find`: asking the queue here would panic the mock.
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let guard = QueueGuard {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
        };
        assert_eq!(
            guard.admission(UserId(1), Some("t"), ConcertId(1)).await,
            Ok(Admission::InWrite("t"))
        );
        assert_eq!(
            guard.admission(UserId(1), None, ConcertId(1)).await,
            Err(DomainError::QueueTokenInvalid)
        );
    }

    #[tokio::test]
    async fn a_write_elsewhere_asks_the_queue_first() {
        let mut queue = MockQueueStore::new();
        queue.expect_shared_with_writes().return_const(false);
        queue.expect_find().returning(|token, _| {
            Ok(Some(QueueTicket {
                position: 3,
                ..QueueTicket::stub(token, UserId(1), ConcertId(1), QueueStatus::Waiting)
            }))
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let elsewhere = QueueGuard {
            queue: Arc::new(queue),
            clock: Arc::new(clock),
        };
        assert_eq!(
            elsewhere
                .admission(UserId(1), Some("t"), ConcertId(1))
                .await,
            Err(DomainError::QueueTokenNotActive)
        );
    }
}
