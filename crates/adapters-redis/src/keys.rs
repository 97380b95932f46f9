//! The key layout. Every key starts with the configured prefix, so several
//! deployments can share one Redis.
//!
//! | key                                | type   | holds                                          |
//! |------------------------------------|--------|------------------------------------------------|
//! | `{p}queue:{concert}:waiting`       | ZSET   | WAITING tokens, score = issue sequence number  |
//! |                                    |        | (the drawn pre-queue: -n..-1, ahead of all)     |
//! | `{p}queue:{concert}:prequeue`      | ZSET   | PREQUEUE tokens, score = issue sequence number |
//! | `{p}queue:{concert}:opened`        | STRING | when the pre-queue was drawn (once)            |
//! | `{p}queue:{concert}:control`       | HASH   | admin controls: `paused` (1/0), `max`          |
//! | `{p}queue:{concert}:active`        | ZSET   | ACTIVE tokens, score = end of window (ms)      |
//! | `{p}queue:{concert}:issued`        | STRING | tokens issued so far (the sequence)            |
//! | `{p}queue:{concert}:admitted`      | STRING | tokens admitted so far                         |
//! | `{p}queue:{concert}:rate`          | HASH   | admission-rate anchor: `at`, `n`, `milli`      |
//! | `{p}token:{token}`                 | HASH   | `u` user, `c` concert, `s` seq, `st`, `x` end  |
//! | `{p}user:{user}:{concert}`         | STRING | the user's latest token for the concert        |
//! | `{p}queues`                        | SET    | concerts with someone WAITING or PREQUEUE      |
//!
//! The Lua scripts build the same names from the prefix (see `scripts/`).

/// Key names for one prefix; used by tests and tools that inspect the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn waiting(&self, concert_id: i64) -> String {
        format!("{}queue:{concert_id}:waiting", self.prefix)
    }

    pub fn prequeue(&self, concert_id: i64) -> String {
        format!("{}queue:{concert_id}:prequeue", self.prefix)
    }

    pub fn active(&self, concert_id: i64) -> String {
        format!("{}queue:{concert_id}:active", self.prefix)
    }

    pub fn token(&self, token: &str) -> String {
        format!("{}token:{token}", self.prefix)
    }

    pub fn user(&self, user_id: i64, concert_id: i64) -> String {
        format!("{}user:{user_id}:{concert_id}", self.prefix)
    }
}

/// Position in line from a sorted-set rank (0-based): the head is 1.
pub(crate) fn position_from_rank(rank: Option<u64>) -> u64 {
    rank.map_or(0, |r| r + 1)
}

/// Admissions per second from the scripts' integer milli-rate.
pub(crate) fn rate_from_milli(milli: i64) -> Option<f64> {
    (milli > 0).then(|| milli as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_prefix() {
        let keys = Keys::new("concert:");
        assert_eq!(keys.waiting(7), "concert:queue:7:waiting");
        assert_eq!(keys.active(7), "concert:queue:7:active");
        assert_eq!(keys.token("ab"), "concert:token:ab");
        assert_eq!(keys.user(3, 7), "concert:user:3:7");
        let other = Keys::new("staging:");
        assert_ne!(other.waiting(7), keys.waiting(7));
    }

    #[test]
    fn rank_and_rate_arithmetic() {
        assert_eq!(position_from_rank(Some(0)), 1);
        assert_eq!(position_from_rank(Some(99_999)), 100_000);
        assert_eq!(position_from_rank(None), 0);
        assert_eq!(rate_from_milli(2500), Some(2.5));
        assert_eq!(rate_from_milli(0), None);
    }
}
