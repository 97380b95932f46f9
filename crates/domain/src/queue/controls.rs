use std::ops::RangeInclusive;

use super::QueuePolicy;
use crate::DomainError;

/// An admin's live settings for one concert's line, kept where every instance
/// reads them (the queue's own store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueControls {
    /// While true nobody is admitted, at issue time or by the admitter.
    pub paused: bool,
    /// Replaces the configured `max_active`; `None` keeps it.
    pub max_active: Option<u32>,
}

impl QueueControls {
    /// The cap in force: the concert's own, else the configured one.
    pub fn max_active(&self, policy: &QueuePolicy) -> u32 {
        self.max_active.unwrap_or(policy.max_active)
    }

    /// Places that may be filled now: none while paused; lowering the cap
    /// below the ACTIVE count expires nobody, it only leaves no room.
    pub fn room(&self, policy: &QueuePolicy, active_now: u64) -> u64 {
        if self.paused {
            return 0;
        }
        u64::from(self.max_active(policy)).saturating_sub(active_now)
    }

    /// These controls with `patch` applied.
    pub fn patched(self, patch: QueueControlsPatch) -> Self {
        Self {
            paused: patch.paused.unwrap_or(self.paused),
            max_active: patch.max_active.or(self.max_active),
        }
    }
}

/// A validated change of [`QueueControls`]; absent members keep their value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueControlsPatch {
    /// New paused state, if given.
    pub paused: Option<bool>,
    /// New cap, if given.
    pub max_active: Option<u32>,
}

impl QueueControlsPatch {
    /// The bounds of `maxActive`.
    pub const MAX_ACTIVE_RANGE: RangeInclusive<i64> = 1..=100_000;

    /// Checks `maxActive` against the contract's bounds.
    pub fn parse(paused: Option<bool>, max_active: Option<i64>) -> Result<Self, DomainError> {
        let max_active = match max_active {
            Some(n) if Self::MAX_ACTIVE_RANGE.contains(&n) => Some(n as u32),
            Some(_) => {
                return Err(DomainError::validation(
                    "maxActive must be an integer from 1 to 100000",
                ))
            }
            None => None,
        };
        Ok(Self { paused, max_active })
    }
}

/// How many tokens of a concert are in each live state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// PREQUEUE tokens (before the opening).
    pub prequeued: u64,
    /// WAITING tokens.
    pub waiting: u64,
    /// ACTIVE tokens whose window has not ended.
    pub active: u64,
}

/// A concert's line as an admin sees it: its controls and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueOverview {
    /// The stored controls.
    pub controls: QueueControls,
    /// The counts at the moment of reading.
    pub counts: QueueCounts,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn policy() -> QueuePolicy {
        QueuePolicy {
            max_active: 10,
            active_ttl: Duration::seconds(60),
        }
    }

    #[test]
    fn paused_leaves_no_room_and_the_cap_overrides_config() {
        let open = QueueControls::default();
        assert_eq!(open.room(&policy(), 4), 6);
        let paused = open.patched(QueueControlsPatch {
            paused: Some(true),
            max_active: None,
        });
        assert_eq!(paused.room(&policy(), 0), 0);
        let capped = open.patched(QueueControlsPatch {
            paused: None,
            max_active: Some(3),
        });
        assert_eq!(capped.max_active(&policy()), 3);
        assert_eq!(capped.room(&policy(), 1), 2);
        assert_eq!(capped.room(&policy(), 7), 0, "lowering expires nobody");
        let resumed = paused.patched(QueueControlsPatch {
            paused: Some(false),
            max_active: None,
        });
        assert_eq!(resumed, open);
    }

    #[test]
    fn max_active_bounds() {
        assert!(QueueControlsPatch::parse(None, Some(1)).is_ok());
        assert!(QueueControlsPatch::parse(Some(true), Some(100_000)).is_ok());
        assert!(QueueControlsPatch::parse(None, Some(0)).is_err());
        assert!(QueueControlsPatch::parse(None, Some(100_001)).is_err());
        assert_eq!(
            QueueControlsPatch::parse(None, None),
            Ok(QueueControlsPatch::default())
        );
    }
}
