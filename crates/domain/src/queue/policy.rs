use chrono::Duration;

/// Admissions per second observed over a recent window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionRate(pub f64);

/// How many users of a concert may be ACTIVE at once, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePolicy {
    /// The most tokens ACTIVE at once per concert.
    pub max_active: u32,
    /// How long an ACTIVE window lasts.
    pub active_ttl: Duration,
}

impl QueuePolicy {
    /// Free places given the number of tokens ACTIVE right now.
    pub fn room(&self, active_now: u64) -> u64 {
        u64::from(self.max_active).saturating_sub(active_now)
    }

    /// Seconds a WAITING token at `position` may expect to wait.
    ///
    /// From the observed admission rate when there is one; before the first
    /// admissions, from capacity: each place turns over at most once per
    /// ACTIVE window, so `max_active` users leave every `active_ttl`.
    pub fn estimated_wait_secs(&self, position: u64, rate: Option<AdmissionRate>) -> u64 {
        if position == 0 {
            return 0;
        }
        match rate {
            Some(AdmissionRate(per_sec)) if per_sec.is_finite() && per_sec > 0.0 => {
                (position as f64 / per_sec).ceil() as u64
            }
            _ => {
                let ttl = self.active_ttl.num_seconds().max(1) as u64;
                let slots = u64::from(self.max_active.max(1));
                position.saturating_mul(ttl).div_ceil(slots)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> QueuePolicy {
        QueuePolicy {
            max_active: 100,
            active_ttl: Duration::seconds(600),
        }
    }

    #[test]
    fn room_never_negative() {
        assert_eq!(policy().room(0), 100);
        assert_eq!(policy().room(99), 1);
        assert_eq!(policy().room(100), 0);
        assert_eq!(policy().room(150), 0);
    }

    #[test]
    fn eta_from_observed_rate() {
        assert_eq!(
            policy().estimated_wait_secs(10, Some(AdmissionRate(4.0))),
            3
        );
        assert_eq!(policy().estimated_wait_secs(0, Some(AdmissionRate(4.0))), 0);
    }

    #[test]
    fn eta_from_capacity_without_observations() {
        assert_eq!(policy().estimated_wait_secs(1, None), 6);
        assert_eq!(policy().estimated_wait_secs(250, None), 1500);
        assert_eq!(
            policy().estimated_wait_secs(250, Some(AdmissionRate(0.0))),
            1500
        );
        assert_eq!(
            policy().estimated_wait_secs(u64::MAX, None),
            u64::MAX / 100 + 1
        );
    }
}
