use thiserror::Error;

use crate::reservation::ReservationStatus;
use crate::waitlist::WaitlistStatus;
use crate::Won;

/// Any error a store's driver reports, kept whole as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the domain, in domain words.
///
/// Ports return this type too: their own failures arrive as
/// [`DomainError::Store`], with the driver's error kept as the cause.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    /// Malformed or out-of-range input; the message is for the client.
    #[error("{0}")]
    Validation(String),
    /// Sign-up with a login id someone already has.
    #[error("login id is already taken")]
    LoginIdTaken,
    /// Unknown login id or wrong password (deliberately the same).
    #[error("login id or password is wrong")]
    InvalidCredentials,
    /// Too many failed logins for one login id lately.
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the oldest counted failure leaves the window.
        retry_after_secs: u64,
    },
    /// Authenticated but not allowed; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or not the caller's; names what.
    #[error("{0} not found")]
    NotFound(String),
    /// The queue token is missing, unknown, expired or someone else's.
    #[error("queue token is missing, unknown, expired or not yours for this concert")]
    QueueTokenInvalid,
    /// The queue token is still waiting.
    #[error("queue token is still waiting to be admitted")]
    QueueTokenNotActive,
    /// The seat is held or sold.
    #[error("seat {seat_number} is not available")]
    SeatUnavailable {
        /// The seat's number within its schedule (what the client asked for).
        seat_number: u32,
    },
    /// The user already holds the most seats allowed.
    #[error("at most {limit} seats may be held at once")]
    HoldLimitExceeded {
        /// The most HELD seats one user may have.
        limit: u32,
    },
    /// The schedule has started.
    #[error("the schedule has already started")]
    ScheduleClosed,
    /// Only HELD reservations can be cancelled; carries the status.
    #[error("reservation is {0} and cannot be cancelled")]
    ReservationNotCancellable(ReservationStatus),
    /// The hold expired before payment.
    #[error("reservation hold has expired")]
    ReservationExpired,
    /// The reservation is paid or cancelled; carries the status.
    #[error("reservation is {0} and cannot be paid")]
    ReservationNotPayable(ReservationStatus),
    /// The balance does not cover the price.
    #[error("balance {available} is less than the price {needed}")]
    InsufficientBalance {
        /// The price.
        needed: Won,
        /// The balance.
        available: Won,
    },
    /// A charge would take the balance past the cap.
    #[error("balance would exceed {limit}")]
    BalanceLimitExceeded {
        /// The cap.
        limit: Won,
    },
    /// The concert's sale (or its pre-queue window) has not opened yet.
    #[error("the sale has not opened yet; joining starts before the opening")]
    SaleNotOpen,
    /// The user already owns the concert's ticket limit.
    #[error("at most {limit} seats of this concert may be owned by one user")]
    TicketLimitExceeded {
        /// The concert's maxTicketsPerUser.
        limit: u32,
    },
    /// The payment was refunded before.
    #[error("the payment is already refunded")]
    AlreadyRefunded,
    /// The show starts too soon for a refund.
    #[error("refunds are closed: the show starts too soon")]
    RefundClosed,
    /// A seat of the schedule can be held: the waiting list is for sold-out schedules.
    #[error("a seat of the schedule is available: hold it instead")]
    SeatsAvailable,
    /// The waiting-list entry is no longer WAITING; carries its status.
    #[error("the waiting-list entry is {0}, not WAITING")]
    WaitlistEntryClosed(WaitlistStatus),
    /// A sum of money left the range of `i64`: a bug or corrupt data.
    #[error("amount overflow: {0}")]
    AmountOverflow(&'static str),
    /// A port's own failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// Shorthand for a validation failure with a message for the client.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    /// Shorthand for a missing resource, named for the client.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// True for a lost optimistic race ([`StoreError::Conflict`]): retryable.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(StoreError::Conflict))
    }
}

/// What a port's adapter reports about itself, the cause kept for the log.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store does not answer (connection, timeout, overload); retry later.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    /// An optimistic version check or a serialization race was lost; the
    /// caller may retry.
    #[error("the resource changed concurrently; retry")]
    Conflict,
    /// The idempotency claim a change carried was taken over by another run,
    /// so the change was not applied.
    #[error("the idempotency claim was taken over by another run")]
    ClaimTakenOver,
    /// A bug, corrupt data or an impossible state.
    #[error("internal store error")]
    Internal(#[source] BoxError),
}

impl StoreError {
    /// The store does not answer; `cause` says why.
    pub fn unavailable(cause: impl Into<BoxError>) -> Self {
        Self::Unavailable(cause.into())
    }

    /// A bug or corrupt data; `cause` says what.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }
}

/// Two store errors are equal when they are of one kind and their causes
/// read the same (causes are not comparable otherwise); tests compare results.
impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Unavailable(a), Self::Unavailable(b))
            | (Self::Internal(a), Self::Internal(b)) => a.to_string() == b.to_string(),
            (Self::Conflict, Self::Conflict) | (Self::ClaimTakenOver, Self::ClaimTakenOver) => true,
            _ => false,
        }
    }
}

impl Eq for StoreError {}

/// A stored status or kind that this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownStatus {
    /// Which enumeration (e.g. "reservation status").
    pub kind: &'static str,
    /// The text that was read.
    pub value: String,
}

impl From<UnknownStatus> for StoreError {
    fn from(err: UnknownStatus) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl From<UnknownStatus> for DomainError {
    fn from(err: UnknownStatus) -> Self {
        Self::Store(err.into())
    }
}

/// `FromStr` for a status enum whose variants are spelled by `as_str`.
macro_rules! parse_by_name {
    ($ty:ty, $kind:literal, [$($variant:ident),+ $(,)?]) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::error::UnknownStatus;

            fn from_str(stored: &str) -> Result<Self, Self::Err> {
                $(
                    if stored == <$ty>::$variant.as_str() {
                        return Ok(<$ty>::$variant);
                    }
                )+
                Err($crate::error::UnknownStatus {
                    kind: $kind,
                    value: stored.to_owned(),
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use parse_by_name;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::points::PointEntryKind;
    use crate::queue::QueueStatus;
    use crate::seat::SeatStatus;

    /// Every variant reads back from its own spelling; anything else is refused.
    fn round_trips<T>(all: &[T])
    where
        T: std::str::FromStr<Err = UnknownStatus> + std::fmt::Display + PartialEq + std::fmt::Debug,
    {
        for status in all {
            assert_eq!(status.to_string().parse::<T>().as_ref(), Ok(status));
        }
        assert!("held".parse::<T>().is_err());
        assert!("".parse::<T>().is_err());
    }

    #[test]
    fn statuses_parse_without_fallbacks() {
        use ReservationStatus::*;
        round_trips(&[Held, Confirmed, Expired, Cancelled, Refunded]);
        round_trips(&[SeatStatus::Available, SeatStatus::Held, SeatStatus::Sold]);
        round_trips(&[
            QueueStatus::PreQueue,
            QueueStatus::Waiting,
            QueueStatus::Active,
            QueueStatus::Expired,
        ]);
        round_trips(&[
            PointEntryKind::Charge,
            PointEntryKind::Payment,
            PointEntryKind::Refund,
        ]);
        round_trips(&[
            WaitlistStatus::Waiting,
            WaitlistStatus::Offered,
            WaitlistStatus::Fulfilled,
            WaitlistStatus::Lapsed,
            WaitlistStatus::Left,
        ]);
    }

    #[test]
    fn a_store_error_keeps_its_cause() {
        let err: DomainError = StoreError::unavailable(std::io::Error::other("reset")).into();
        assert_eq!(err.to_string(), "a dependency is unavailable");
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("reset")
        );
        let unknown: DomainError = UnknownStatus {
            kind: "seat status",
            value: "GONE".into(),
        }
        .into();
        assert!(matches!(
            unknown,
            DomainError::Store(StoreError::Internal(_))
        ));
        assert_eq!(
            unknown.source().map(ToString::to_string).as_deref(),
            Some("unknown seat status \"GONE\"")
        );
    }
}
