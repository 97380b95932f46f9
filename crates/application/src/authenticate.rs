use std::sync::Arc;

use domain::ports::{AccessTokens, Clock};
use domain::{DomainError, UserId};

/// Turns a presented access token into the user it was issued to.
pub struct Authenticate {
    pub tokens: Arc<dyn AccessTokens>,
    pub clock: Arc<dyn Clock>,
}

impl Authenticate {
    pub fn execute(&self, token: Option<&str>) -> Result<UserId, DomainError> {
        let token = token.ok_or(DomainError::Unauthenticated)?;
        self.tokens.verify(token, self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ports::{MockAccessTokens, MockClock};

    #[test]
    fn missing_or_bad_tokens_are_unauthenticated() {
        let mut tokens = MockAccessTokens::new();
        tokens.expect_verify().returning(|t, _| {
            if t == "good" {
                Ok(UserId(3))
            } else {
                Err(DomainError::Unauthenticated)
            }
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        let uc = Authenticate {
            tokens: Arc::new(tokens),
            clock: Arc::new(clock),
        };
        assert_eq!(uc.execute(Some("good")), Ok(UserId(3)));
        assert_eq!(uc.execute(Some("bad")), Err(DomainError::Unauthenticated));
        assert_eq!(uc.execute(None), Err(DomainError::Unauthenticated));
    }
}
