use std::sync::Arc;

use domain::payment::PaymentRecord;
use domain::ports::PaymentStore;
use domain::{DomainError, PaymentId, UserId};

/// One of the caller's payments.
pub struct ViewPayment {
    pub payments: Arc<dyn PaymentStore>,
}

impl ViewPayment {
    /// Someone else's payment is reported as missing, not as forbidden.
    pub async fn execute(
        &self,
        user_id: UserId,
        id: PaymentId,
    ) -> Result<PaymentRecord, DomainError> {
        owned_payment(self.payments.find(id).await?, user_id, id)
    }
}

/// The payment if it exists and belongs to `user_id`, else NOT_FOUND.
pub(crate) fn owned_payment(
    found: Option<PaymentRecord>,
    user_id: UserId,
    id: PaymentId,
) -> Result<PaymentRecord, DomainError> {
    found
        .filter(|p| p.user_id == user_id)
        .ok_or_else(|| DomainError::not_found(format!("payment {id}")))
}
