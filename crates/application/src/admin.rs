use crate::AppError;

/// The admin endpoints' shared secret; `None` refuses every caller.
#[derive(Debug, Clone, Default)]
pub struct AdminKey(pub Option<String>);

impl AdminKey {
    /// 403 `ADMIN_KEY_INVALID` unless `presented` is the configured key.
    pub fn check(&self, presented: Option<&str>) -> Result<(), AppError> {
        match (&self.0, presented) {
            (Some(expected), Some(given))
                if constant_time_eq(expected.as_bytes(), given.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(AppError::AdminKeyInvalid),
        }
    }
}

/// Compares secrets without leaking how long a prefix matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_key_passes() {
        assert!(AdminKey(Some("k".into())).check(Some("k")).is_ok());
        for (configured, given) in [
            (None, Some("k")),
            (Some("k"), None),
            (Some("k"), Some("kk")),
        ] {
            assert_eq!(
                AdminKey(configured.map(str::to_owned)).check(given),
                Err(AppError::AdminKeyInvalid)
            );
        }
    }
}
