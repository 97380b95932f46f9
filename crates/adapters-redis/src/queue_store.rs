use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::ports::{IssueRequest, QueueStore, RandomSource};
use domain::queue::{
    draw_line_order, AdmissionRate, QueueControls, QueueControlsPatch, QueueCounts, QueueLine,
    QueueOverview, QueuePolicy, QueueStatus, QueueTicket, QueueToken,
};
use domain::{ConcertId, DomainError, StoreError, UserId};
use redis::{AsyncCommands, ErrorKind, RedisError, Script, ServerErrorKind};

use crate::connect::RedisConnection;
use crate::keys::{compose_token, position_from_rank, rate_from_milli, token_concert, Keys};
use crate::scripts::{ADMIT, CONTROL, EXPIRE_ACTIVE, FIND, ISSUE, LINES, OPEN};

/// How long an EXPIRED token stays readable (then polling it says "unknown").
const KEEP_EXPIRED: Duration = Duration::hours(24);

/// Draws per opening before giving up until the next tick: a redraw is
/// needed only when someone joined the pre-queue between read and write.
const OPEN_ATTEMPTS: usize = 3;

/// The issue script's reply: the token, 1 if new, its status.
type IssueReply = (String, i64, String);

/// The control script's reply: paused, max or '', prequeued, waiting, active.
type ControlReply = (String, String, i64, i64, i64);

/// The queue port on Redis. Every step is one Lua script on one concert's
/// keys (one hash tag, so one node of a cluster): atomic, so the cap and FIFO
/// hold however many instances run the admitter at once.
pub struct RedisQueueStore {
    connection: RedisConnection,
    keys: Keys,
}

/// Redis being unreachable or slow is an outage (503), and so is a cluster
/// that is down or moving a slot; anything else is a bug.
fn redis_err(err: RedisError) -> DomainError {
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_cluster_error()
        || matches!(
            err.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(ServerErrorKind::MasterDown | ServerErrorKind::BusyLoading)
        )
    {
        StoreError::unavailable(err).into()
    } else {
        StoreError::internal(err).into()
    }
}

fn ms(at: DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

/// The script's raw reply for a token: user, concert, status, window end, rank, milli-rate.
type FoundToken = (i64, i64, String, String, i64, i64);

impl RedisQueueStore {
    pub fn new(connection: RedisConnection, prefix: impl Into<String>) -> Self {
        Self {
            connection,
            keys: Keys::new(prefix),
        }
    }

    /// Runs a per-concert script: `KEYS` the concert's fixed keys, `ARGV`
    /// the key base, the concert, then `args`.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        concert_id: ConcertId,
        args: &[String],
    ) -> Result<T, DomainError> {
        let mut invocation = script.prepare_invoke();
        invocation.key(self.keys.concert(concert_id.0));
        invocation.arg(self.keys.base(concert_id.0));
        invocation.arg(concert_id.0);
        for arg in args {
            invocation.arg(arg);
        }
        invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(redis_err)
    }

    /// Puts the concert into the index of lines the admitter walks (its own
    /// command: the index is one key, in whichever slot, for every concert).
    async fn index(&self, concert_id: ConcertId) -> Result<(), DomainError> {
        self.connection
            .clone()
            .sadd::<_, _, ()>(self.keys.queues(), concert_id.0)
            .await
            .map_err(redis_err)
    }

    /// The concert's counts of WAITING and PREQUEUE tokens.
    async fn line(&self, concert_id: ConcertId) -> Result<QueueLine, DomainError> {
        let (waiting, prequeued): (i64, i64) = LINES
            .key(self.keys.waiting(concert_id.0))
            .key(self.keys.prequeue(concert_id.0))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(redis_err)?;
        Ok(QueueLine {
            concert_id,
            waiting: waiting.max(0) as u64,
            prequeued: prequeued.max(0) as u64,
        })
    }

    fn ticket(
        token: &str,
        found: FoundToken,
        now: DateTime<Utc>,
    ) -> Result<QueueTicket, StoreError> {
        let (user, concert, status, expires, rank, milli) = found;
        let expires_at = expires
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis);
        let status = match status.parse()? {
            // The ACTIVE window ended: expired, swept or not.
            QueueStatus::Active if expires_at.is_none_or(|at| at <= now) => QueueStatus::Expired,
            status => status,
        };
        let waiting = status == QueueStatus::Waiting;
        Ok(QueueTicket {
            token: QueueToken(token.to_owned()),
            user_id: UserId(user),
            concert_id: ConcertId(concert),
            status,
            position: if waiting {
                position_from_rank(u64::try_from(rank).ok()).max(1)
            } else {
                0
            },
            expires_at: if waiting { None } else { expires_at },
            admission_rate: if waiting {
                rate_from_milli(milli).map(AdmissionRate)
            } else {
                None
            },
        })
    }
}

#[async_trait]
impl QueueStore for RedisQueueStore {
    async fn issue(&self, request: IssueRequest) -> Result<(QueueTicket, bool), DomainError> {
        let concert_id = request.concert_id;
        let args = [
            request.user_id.0.to_string(),
            compose_token(concert_id, request.new_token.as_str()),
            ms(request.now),
            ms(request.now + request.policy.active_ttl),
            request.policy.max_active.to_string(),
            KEEP_EXPIRED.num_milliseconds().to_string(),
            if request.prequeue { "1" } else { "0" }.to_owned(),
        ];
        let (token, created, status): IssueReply = self.run(&ISSUE, concert_id, &args).await?;
        if status == "WAITING" || status == "PREQUEUE" {
            // After the script, so that the admitter's clean-up (which
            // re-checks the line after removing it) cannot drop this line.
            self.index(concert_id).await?;
        }
        let ticket = self
            .find(&token, request.now)
            .await?
            .ok_or_else(|| StoreError::internal(format!("issued token {token} vanished")))?;
        Ok((ticket, created == 1))
    }

    async fn find(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<QueueTicket>, DomainError> {
        let (Some(concert_id), Some(key)) = (token_concert(token), self.keys.token(token)) else {
            return Ok(None);
        };
        let found: Option<FoundToken> = FIND
            .key(key)
            .key(self.keys.waiting(concert_id.0))
            .key(self.keys.rate(concert_id.0))
            .arg(token)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(redis_err)?;
        Ok(found.map(|f| Self::ticket(token, f, now)).transpose()?)
    }

    async fn admit(
        &self,
        concert_id: ConcertId,
        policy: QueuePolicy,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let args = [
            ms(now),
            ms(now + policy.active_ttl),
            policy.max_active.to_string(),
            KEEP_EXPIRED.num_milliseconds().to_string(),
        ];
        self.run(&ADMIT, concert_id, &args).await
    }

    async fn waiting_lines(&self) -> Result<Vec<QueueLine>, DomainError> {
        let concerts: Vec<i64> = self
            .connection
            .clone()
            .smembers(self.keys.queues())
            .await
            .map_err(redis_err)?;
        let mut lines = Vec::with_capacity(concerts.len());
        for concert_id in concerts.into_iter().map(ConcertId) {
            let mut line = self.line(concert_id).await?;
            if line.waiting == 0 && line.prequeued == 0 {
                // An empty line leaves the index. A join may have landed
                // between the count and the removal: count again, and put it
                // back if so (the joiner indexes after its script, so one of
                // the two sees the other).
                let _: i64 = self
                    .connection
                    .clone()
                    .srem(self.keys.queues(), concert_id.0)
                    .await
                    .map_err(redis_err)?;
                line = self.line(concert_id).await?;
                if line.waiting == 0 && line.prequeued == 0 {
                    continue;
                }
                self.index(concert_id).await?;
            }
            lines.push(line);
        }
        Ok(lines)
    }

    async fn open_sale(
        &self,
        concert_id: ConcertId,
        now: DateTime<Utc>,
        rng: Arc<dyn RandomSource>,
    ) -> Result<u64, DomainError> {
        for _ in 0..OPEN_ATTEMPTS {
            // Read, draw here (the domain's step, with our RNG), then apply in
            // one script that first checks the pre-queue is still this one.
            let members: Vec<String> = self
                .connection
                .clone()
                .zrange(self.keys.prequeue(concert_id.0), 0, -1)
                .await
                .map_err(redis_err)?;
            if members.is_empty() {
                return Ok(0);
            }
            let mut args = vec![ms(now)];
            args.extend(draw_line_order(members, rng.as_ref()));
            let moved: i64 = self.run(&OPEN, concert_id, &args).await?;
            if moved >= 0 {
                return Ok(moved as u64);
            }
        }
        Err(DomainError::Store(StoreError::Conflict))
    }

    async fn control(
        &self,
        concert_id: ConcertId,
        patch: QueueControlsPatch,
        now: DateTime<Utc>,
    ) -> Result<QueueOverview, DomainError> {
        let args = [
            ms(now),
            patch
                .paused
                .map_or(String::new(), |p| if p { "1" } else { "0" }.to_owned()),
            patch.max_active.map_or(String::new(), |m| m.to_string()),
        ];
        let (paused, max, prequeued, waiting, active): ControlReply =
            self.run(&CONTROL, concert_id, &args).await?;
        Ok(QueueOverview {
            controls: QueueControls {
                paused: paused == "1",
                max_active: max.parse().ok(),
            },
            counts: QueueCounts {
                prequeued: prequeued.max(0) as u64,
                waiting: waiting.max(0) as u64,
                active: active.max(0) as u64,
            },
        })
    }

    async fn expire_active(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let args = [
            user_id.0.to_string(),
            ms(now),
            KEEP_EXPIRED.num_milliseconds().to_string(),
        ];
        let _: i64 = self.run(&EXPIRE_ACTIVE, concert_id, &args).await?;
        Ok(())
    }
}
