use domain::{DomainError, StoreError};
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Maps a database failure into the port's error, keeping it as the cause:
/// connection trouble is `Unavailable` (503), a lost serialization race a
/// `Conflict`, anything else `Internal`.
pub(crate) fn db_err(err: DbErr) -> DomainError {
    store_err(err).into()
}

fn store_err(err: DbErr) -> StoreError {
    match kind(&err) {
        Kind::Unavailable => StoreError::unavailable(err),
        // Someone else won; retryable.
        Kind::Conflict => StoreError::Conflict,
        Kind::Internal => StoreError::internal(err),
    }
}

enum Kind {
    Unavailable,
    Conflict,
    Internal,
}

fn kind(err: &DbErr) -> Kind {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Kind::Unavailable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e {
            sea_orm::sqlx::Error::Io(_)
            | sea_orm::sqlx::Error::PoolTimedOut
            | sea_orm::sqlx::Error::PoolClosed
            | sea_orm::sqlx::Error::Tls(_) => Kind::Unavailable,
            sea_orm::sqlx::Error::Database(d) => match d.code().as_deref() {
                // Serialization failure, deadlock, SQLITE_BUSY.
                Some("40001" | "40P01" | "5" | "517") => Kind::Conflict,
                // Connection trouble, server out of resources or shutting down,
                // database gone, or our statement / lock timeout ran out
                // (57014 query_canceled, 55P03 lock_not_available).
                Some(code)
                    if code.starts_with("08")
                        || code == "57014"
                        || code == "55P03"
                        || code.starts_with("53")
                        || code.starts_with("57P")
                        || code == "3D000" =>
                {
                    Kind::Unavailable
                }
                _ => Kind::Internal,
            },
            _ => Kind::Internal,
        },
        _ => Kind::Internal,
    }
}

/// True when the error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
