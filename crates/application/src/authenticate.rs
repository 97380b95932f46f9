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
