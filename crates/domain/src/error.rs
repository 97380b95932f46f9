use thiserror::Error;

/// Everything that can go wrong in the domain, in domain words.
///
/// Ports return this type too: adapters translate their own failures into it
/// (a lost connection becomes [`DomainError::Unavailable`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
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
    /// No valid access token.
    #[error("a valid access token is required")]
    Unauthenticated,
    /// Authenticated but not allowed; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// The admin key is missing, wrong or not configured.
    #[error("admin key is missing or wrong")]
    AdminKeyInvalid,
    /// No such thing, or not the caller's; names what.
    #[error("{0} not found")]
    NotFound(String),
    /// The queue token is missing, unknown, expired or someone else's.
    #[error("queue token is missing, unknown, expired or not yours for this concert")]
    QueueTokenInvalid,
    /// The queue token is still waiting.
    #[error("queue token is still waiting to be admitted")]
    QueueTokenNotActive,
    /// The seat (by number) is held or sold.
    #[error("seat {0} is not available")]
    SeatUnavailable(i64),
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
    ReservationNotCancellable(String),
    /// The hold expired before payment.
    #[error("reservation hold has expired")]
    ReservationExpired,
    /// The reservation is paid or cancelled; carries the status.
    #[error("reservation is {0} and cannot be paid")]
    ReservationNotPayable(String),
    /// The balance does not cover the price.
    #[error("balance {available} is less than the price {needed}")]
    InsufficientBalance {
        /// The price.
        needed: i64,
        /// The balance.
        available: i64,
    },
    /// A charge would take the balance past the cap.
    #[error("balance would exceed {limit}")]
    BalanceLimitExceeded {
        /// The cap.
        limit: i64,
    },
    /// An optimistic version check failed; the caller may retry.
    #[error("the resource changed concurrently; retry")]
    ConcurrentModification,
    /// The idempotency key came with a different request.
    #[error("idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this idempotency key is still running.
    #[error("a request with this idempotency key is still in progress")]
    IdempotencyKeyInFlight,
    /// The concert's sale (or its pre-queue window) has not opened yet.
    #[error("the sale has not opened yet; joining starts before the opening")]
    SaleNotOpen,
    /// The user already owns the concert's ticket limit.
    #[error("at most {limit} seats of this concert may be owned by one user")]
    TicketLimitExceeded {
        /// The concert's maxTicketsPerUser.
        limit: u32,
    },
    /// A store does not answer; carries the cause.
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    /// A bug or an impossible state; carries the cause.
    #[error("internal error: {0}")]
    Internal(String),
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
    WaitlistEntryClosed(String),
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
}
