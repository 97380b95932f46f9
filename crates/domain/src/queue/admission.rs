//! Where a write checks the caller's admission.

use super::QueueStatus;
use crate::DomainError;

/// How a write (a hold, a payment) learns that its caller is admitted.
///
/// When the queue lives in the same database as the seats and the money, the
/// token's row can be read by the write's own statement: one round trip
/// fewer, and the admission is judged in the very snapshot the write commits
/// in. Elsewhere (Redis) the queue port is asked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission<'a> {
    /// Already checked through the queue port, or not needed (an offer).
    Checked,
    /// To be checked by the store inside the write: it writes only if this is
    /// the caller's token for the concert and it is ACTIVE at the write's
    /// `now`, and it answers with [`admitted`] of what it saw otherwise.
    InWrite(&'a str),
}

/// The answer to a token the caller showed, from what a store saw of it:
/// `None` when no token of this caller and concert has that value, else its
/// status at the decision's `now` (an ACTIVE token whose window has ended
/// counts as [`QueueStatus::Expired`]).
pub fn admitted(seen: Option<QueueStatus>) -> Result<(), DomainError> {
    match seen {
        Some(QueueStatus::Active) => Ok(()),
        Some(QueueStatus::PreQueue | QueueStatus::Waiting) => Err(DomainError::QueueTokenNotActive),
        Some(QueueStatus::Expired) | None => Err(DomainError::QueueTokenInvalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_token_admits() {
        assert!(admitted(Some(QueueStatus::Active)).is_ok());
        for waiting in [QueueStatus::PreQueue, QueueStatus::Waiting] {
            assert!(matches!(
                admitted(Some(waiting)),
                Err(DomainError::QueueTokenNotActive)
            ));
        }
        for gone in [Some(QueueStatus::Expired), None] {
            assert!(matches!(
                admitted(gone),
                Err(DomainError::QueueTokenInvalid)
            ));
        }
    }
}
