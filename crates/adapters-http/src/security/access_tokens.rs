use chrono::{DateTime, Utc};
use domain::ports::{AccessTokens, IssuedAccessToken};
use domain::{DomainError, StoreError, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// HS256-signed access tokens. Expiry is checked against the injected clock,
/// not the library's own, so every instance and test agrees on "now".
pub struct JwtAccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

impl JwtAccessTokens {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }
}

impl AccessTokens for JwtAccessTokens {
    fn issue(&self, user_id: UserId, now: DateTime<Utc>) -> Result<IssuedAccessToken, DomainError> {
        let claims = Claims {
            sub: user_id.0.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs as i64,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(StoreError::internal)?;
        Ok(IssuedAccessToken {
            token,
            expires_in_secs: self.ttl_secs,
        })
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<UserId> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        if claims.exp <= now.timestamp() {
            return None;
        }
        claims.sub.parse().map(UserId).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn round_trip_and_expiry() {
        let tokens = JwtAccessTokens::new(b"secret", 60);
        let now = Utc::now();
        let issued = tokens.issue(UserId(42), now).unwrap();
        assert_eq!(tokens.verify(&issued.token, now), Some(UserId(42)));
        assert_eq!(
            tokens.verify(&issued.token, now + Duration::seconds(60)),
            None
        );
    }

    #[test]
    fn forged_or_garbage_is_refused() {
        let now = Utc::now();
        let issued = JwtAccessTokens::new(b"other", 60)
            .issue(UserId(1), now)
            .unwrap();
        let tokens = JwtAccessTokens::new(b"secret", 60);
        assert_eq!(tokens.verify(&issued.token, now), None);
        assert_eq!(tokens.verify("not.a.jwt", now), None);
    }
}
