use domain::DomainError;

/// A use case's refusal: the caller's credentials, or the domain's answer.
/// Only use cases that check who is calling return it; the rest return
/// [`DomainError`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AppError {
    /// No valid access token, or its user is gone.
    #[error("a valid access token is required")]
    Unauthenticated,
    /// The admin key is missing, wrong or not configured.
    #[error("admin key is missing or wrong")]
    AdminKeyInvalid,
    /// The domain's own refusal, or a port's failure.
    #[error(transparent)]
    Domain(#[from] DomainError),
}
