use chrono::{DateTime, Utc};

use super::AdmissionRate;
use crate::{ConcertId, UserId};

/// An opaque, unguessable queue token (at least 128 random bits, hex encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueToken(pub String);

impl QueueToken {
    /// The token as issued.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a token stands in its concert's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStatus {
    /// Joined before the sale opened; its place is drawn at the opening.
    PreQueue,
    /// In line, not yet admitted.
    Waiting,
    /// Admitted: may see seats, hold and pay.
    Active,
    /// The ACTIVE window ended or its holder paid.
    Expired,
}

impl QueueStatus {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreQueue => "PREQUEUE",
            Self::Waiting => "WAITING",
            Self::Active => "ACTIVE",
            Self::Expired => "EXPIRED",
        }
    }
}

crate::error::parse_by_name!(
    QueueStatus,
    "queue status",
    [PreQueue, Waiting, Active, Expired]
);

/// A token as read at one moment: status already accounts for the ACTIVE
/// window's end, and `position` is 1 for the head of the line, 0 when not WAITING.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueTicket {
    /// The token.
    pub token: QueueToken,
    /// Its holder.
    pub user_id: UserId,
    /// The concert it queues for.
    pub concert_id: ConcertId,
    /// Its status at the time of reading.
    pub status: QueueStatus,
    /// 1 for the head of the line; 0 when not WAITING.
    pub position: u64,
    /// End of the ACTIVE window; `None` while WAITING.
    pub expires_at: Option<DateTime<Utc>>,
    /// Admissions per second recently observed for this concert, if any.
    pub admission_rate: Option<AdmissionRate>,
}

/// Tickets as a queue store answers them, for the use cases' tests.
#[cfg(any(test, feature = "mocks"))]
impl QueueTicket {
    /// `token` of `user_id` for `concert_id` in `status`, at position 0, with
    /// no expiry and no observed admission rate.
    pub fn stub(token: &str, user_id: UserId, concert_id: ConcertId, status: QueueStatus) -> Self {
        QueueTicket {
            token: QueueToken(token.into()),
            user_id,
            concert_id,
            status,
            position: 0,
            expires_at: None,
            admission_rate: None,
        }
    }
}

/// A concert's line as the admitter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLine {
    /// The concert.
    pub concert_id: ConcertId,
    /// Tokens still WAITING.
    pub waiting: u64,
    /// Tokens in the pre-queue, waiting for the opening's draw.
    pub prequeued: u64,
}
