//! Password hashing and access tokens: the crypto behind the auth ports.

mod access_tokens;
mod password;

pub use access_tokens::JwtAccessTokens;
pub use password::Argon2Hasher;
