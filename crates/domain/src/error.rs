use thiserror::Error;

/// Everything that can go wrong in the domain, in domain words.
///
/// Ports return this type too: adapters translate their own failures into it
/// (a lost connection becomes [`DomainError::Unavailable`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error("{0}")]
    Validation(String),
    #[error("login id is already taken")]
    LoginIdTaken,
    #[error("login id or password is wrong")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("a valid access token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("admin key is missing or wrong")]
    AdminKeyInvalid,
    #[error("{0} not found")]
    NotFound(String),
    #[error("queue token is missing, unknown, expired or not yours for this concert")]
    QueueTokenInvalid,
    #[error("queue token is still waiting to be admitted")]
    QueueTokenNotActive,
    #[error("seat {0} is not available")]
    SeatUnavailable(i64),
    #[error("at most {limit} seats may be held at once")]
    HoldLimitExceeded { limit: u32 },
    #[error("the schedule has already started")]
    ScheduleClosed,
    #[error("reservation is {0} and cannot be cancelled")]
    ReservationNotCancellable(String),
    #[error("reservation hold has expired")]
    ReservationExpired,
    #[error("reservation is {0} and cannot be paid")]
    ReservationNotPayable(String),
    #[error("balance {available} is less than the price {needed}")]
    InsufficientBalance { needed: i64, available: i64 },
    #[error("balance would exceed {limit}")]
    BalanceLimitExceeded { limit: i64 },
    #[error("the resource changed concurrently; retry")]
    ConcurrentModification,
    #[error("idempotency key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this idempotency key is still in progress")]
    IdempotencyKeyInFlight,
    #[error("the sale has not opened yet; joining starts before the opening")]
    SaleNotOpen,
    #[error("at most {limit} seats of this concert may be owned by one user")]
    TicketLimitExceeded { limit: u32 },
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the payment is already refunded")]
    AlreadyRefunded,
    #[error("refunds are closed: the show starts too soon")]
    RefundClosed,
    #[error("a seat of the schedule is available: hold it instead")]
    SeatsAvailable,
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
