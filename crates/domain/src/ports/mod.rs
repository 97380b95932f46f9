//! The traits the outside world implements: stores, clock, crypto.

mod access_tokens;
mod clock;
mod concert_repository;
mod idempotency_store;
mod login_attempts;
mod password_hasher;
mod payment_store;
mod point_store;
mod queue_store;
mod random;
mod reservation_store;
mod sales_report;
mod seat_repository;
mod user_repository;
mod waitlist_store;

pub use access_tokens::{AccessTokens, IssuedAccessToken};
pub use clock::Clock;
pub use concert_repository::ConcertRepository;
pub use idempotency_store::IdempotencyStore;
pub use login_attempts::LoginAttempts;
pub use password_hasher::PasswordHasher;
pub use payment_store::PaymentStore;
pub use point_store::PointStore;
pub use queue_store::{IssueRequest, QueueStore};
pub use random::RandomSource;
pub use reservation_store::ReservationStore;
pub use sales_report::SalesReport;
pub use seat_repository::SeatRepository;
pub use user_repository::UserRepository;
pub use waitlist_store::WaitlistStore;

#[cfg(feature = "mocks")]
pub use {
    access_tokens::MockAccessTokens, clock::MockClock, concert_repository::MockConcertRepository,
    idempotency_store::MockIdempotencyStore, login_attempts::MockLoginAttempts,
    password_hasher::MockPasswordHasher, payment_store::MockPaymentStore,
    point_store::MockPointStore, queue_store::MockQueueStore, random::MockRandomSource,
    reservation_store::MockReservationStore, sales_report::MockSalesReport,
    seat_repository::MockSeatRepository, user_repository::MockUserRepository,
    waitlist_store::MockWaitlistStore,
};
