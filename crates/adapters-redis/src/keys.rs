//! The key layout. Every key starts with the configured prefix, so several
//! deployments can share one Redis; every key of one concert carries the hash
//! tag `{<concert>}`, so on a Redis Cluster a concert's keys live in one slot
//! and each script runs on one node.
//!
//! | key                                  | type   | holds                                          |
//! |--------------------------------------|--------|------------------------------------------------|
//! | `{p}queue:{c}:waiting`               | ZSET   | WAITING tokens, score = issue sequence number  |
//! |                                      |        | (the drawn pre-queue: -n..-1, ahead of all)     |
//! | `{p}queue:{c}:prequeue`              | ZSET   | PREQUEUE tokens, score = issue sequence number |
//! | `{p}queue:{c}:active`                | ZSET   | ACTIVE tokens, score = end of window (ms)      |
//! | `{p}queue:{c}:control`               | HASH   | admin controls: `paused` (1/0), `max`          |
//! | `{p}queue:{c}:issued`                | STRING | tokens issued so far (the sequence)            |
//! | `{p}queue:{c}:admitted`              | STRING | tokens admitted so far                         |
//! | `{p}queue:{c}:rate`                  | HASH   | admission-rate anchor: `at`, `n`, `milli`      |
//! | `{p}queue:{c}:opened`                | STRING | when the pre-queue was drawn (once)            |
//! | `{p}queue:{c}:token:{token}`         | HASH   | `u` user, `c` concert, `s` seq, `st`, `x` end  |
//! | `{p}queue:{c}:user:{user}`           | STRING | the user's latest token for the concert        |
//! | `{p}queues`                          | SET    | concerts that may have someone WAITING or      |
//! |                                      |        | PREQUEUE (an index: never touched by a script) |
//!
//! (`{c}` above is literal: the concert id between braces.) A token is
//! `<concert>.<128 random bits, hex>`, so a lookup by token alone finds its
//! slot. The scripts receive the concert's fixed keys in `KEYS` (see
//! [`Keys::concert`]) and build the per-token and per-user names from the
//! same base, which carries the same hash tag.

use domain::ConcertId;

/// Key names for one prefix; used by tests and tools that inspect the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

/// The fixed keys of one concert's line, in the order the scripts take them
/// as `KEYS[1..8]`.
pub const CONCERT_KEYS: [&str; 8] = [
    "waiting", "prequeue", "active", "control", "issued", "admitted", "rate", "opened",
];

impl Keys {
    /// Keys under `prefix`; the prefix must not contain `{` or `}` (the hash tag).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The common start of every key of the concert, hash tag included.
    pub fn base(&self, concert_id: i64) -> String {
        format!("{}queue:{{{concert_id}}}:", self.prefix)
    }

    /// The concert's fixed keys, in [`CONCERT_KEYS`] order.
    pub fn concert(&self, concert_id: i64) -> Vec<String> {
        let base = self.base(concert_id);
        CONCERT_KEYS.iter().map(|k| format!("{base}{k}")).collect()
    }

    pub fn waiting(&self, concert_id: i64) -> String {
        format!("{}waiting", self.base(concert_id))
    }

    pub fn prequeue(&self, concert_id: i64) -> String {
        format!("{}prequeue", self.base(concert_id))
    }

    pub fn active(&self, concert_id: i64) -> String {
        format!("{}active", self.base(concert_id))
    }

    pub fn rate(&self, concert_id: i64) -> String {
        format!("{}rate", self.base(concert_id))
    }

    /// The token's hash, or `None` for a string that is not one of our tokens.
    pub fn token(&self, token: &str) -> Option<String> {
        let concert_id = token_concert(token)?;
        Some(format!("{}token:{token}", self.base(concert_id.0)))
    }

    pub fn user(&self, user_id: i64, concert_id: i64) -> String {
        format!("{}user:{user_id}", self.base(concert_id))
    }

    /// The index of concerts with a line.
    pub fn queues(&self) -> String {
        format!("{}queues", self.prefix)
    }
}

/// A new token for the concert: the concert id, a dot, the random part.
pub(crate) fn compose_token(concert_id: ConcertId, random: &str) -> String {
    format!("{}.{random}", concert_id.0)
}

/// The concert a token was issued for, read from the token itself.
pub fn token_concert(token: &str) -> Option<ConcertId> {
    let (concert, random) = token.split_once('.')?;
    if random.is_empty() || concert.starts_with(['+', '-']) {
        return None;
    }
    concert.parse().ok().map(ConcertId)
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
    fn every_key_carries_the_prefix_and_the_concerts_hash_tag() {
        let keys = Keys::new("concert:");
        assert_eq!(keys.waiting(7), "concert:queue:{7}:waiting");
        assert_eq!(keys.active(7), "concert:queue:{7}:active");
        assert_eq!(
            keys.token("7.ab").as_deref(),
            Some("concert:queue:{7}:token:7.ab")
        );
        assert_eq!(keys.user(3, 7), "concert:queue:{7}:user:3");
        assert_eq!(keys.queues(), "concert:queues");
        assert_eq!(keys.concert(7)[0], keys.waiting(7));
        assert_eq!(keys.concert(7)[7], "concert:queue:{7}:opened");
        let other = Keys::new("staging:");
        assert_ne!(other.waiting(7), keys.waiting(7));
    }

    #[test]
    fn a_token_names_its_concert() {
        let token = compose_token(ConcertId(42), "00ff");
        assert_eq!(token, "42.00ff");
        assert_eq!(token_concert(&token), Some(ConcertId(42)));
        for bad in ["", "00ff", "x.00ff", "42.", ".00ff", "+4.00ff", "-4.00ff"] {
            assert_eq!(token_concert(bad), None, "{bad}");
        }
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
