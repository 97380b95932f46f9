use chrono::{DateTime, Utc};

use super::QueueStatus;

/// The shortest poll interval the service asks for.
pub const MIN_POLL_MS: u64 = 250;
/// The longest: a client never waits longer than this to hear news.
pub const MAX_POLL_MS: u64 = 30_000;
/// Extra milliseconds per place in line: the tail polls slower than the head.
const PER_PLACE_MS: u64 = 5;

/// When a token's holder should ask again (`pollAfterMs`): 0 when there is
/// nothing to wait for (ACTIVE, EXPIRED); for WAITING, longer the further back
/// in line; for PREQUEUE, the time left to the opening (bounded), so a large
/// pre-queue does not poll at the head's rate for an hour.
pub fn poll_after_ms(
    status: QueueStatus,
    position: u64,
    sale_opens_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> u64 {
    let bounded = |ms: u64| ms.clamp(MIN_POLL_MS, MAX_POLL_MS);
    match status {
        QueueStatus::Active | QueueStatus::Expired => 0,
        QueueStatus::Waiting => bounded(
            MIN_POLL_MS.saturating_add(position.saturating_sub(1).saturating_mul(PER_PLACE_MS)),
        ),
        QueueStatus::PreQueue => {
            let left = (sale_opens_at - now).num_milliseconds().max(0) as u64;
            bounded(left)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    #[test]
    fn done_tokens_need_no_polling() {
        for status in [QueueStatus::Active, QueueStatus::Expired] {
            assert_eq!(poll_after_ms(status, 0, now(), now()), 0);
        }
    }

    #[test]
    fn the_back_of_the_line_polls_slower() {
        let at = |p| poll_after_ms(QueueStatus::Waiting, p, now(), now());
        assert_eq!(at(1), MIN_POLL_MS);
        assert!(at(2) > at(1));
        assert!(at(1_000) > at(100));
        assert_eq!(at(100_000), MAX_POLL_MS);
        assert_eq!(at(u64::MAX), MAX_POLL_MS);
    }

    #[test]
    fn the_prequeue_polls_by_time_left() {
        let at = |left: i64| {
            poll_after_ms(
                QueueStatus::PreQueue,
                0,
                now() + Duration::milliseconds(left),
                now(),
            )
        };
        assert_eq!(at(3_600_000), MAX_POLL_MS);
        assert_eq!(at(5_000), 5_000);
        assert_eq!(at(100), MIN_POLL_MS);
        assert_eq!(at(-1_000), MIN_POLL_MS, "opening overdue: soon");
    }
}
