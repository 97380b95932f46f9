use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::ports::{IssueRequest, QueueStore, RandomSource};
use domain::queue::{
    draw_line_order, AdmissionRate, QueueControls, QueueControlsPatch, QueueCounts, QueueLine,
    QueueOverview, QueuePolicy, QueueStatus, QueueTicket, QueueToken,
};
use domain::{ConcertId, DomainError, StoreError, UserId};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, RedisError, Script};

use crate::keys::{position_from_rank, rate_from_milli, Keys};
use crate::scripts::{ADMIT, CONTROL, EXPIRE_ACTIVE, FIND, ISSUE, LINES, OPEN};

/// How long an EXPIRED token stays readable (then polling it says "unknown").
const KEEP_EXPIRED: Duration = Duration::hours(24);

/// Draws per opening before giving up until the next tick: a redraw is
/// needed only when someone joined the pre-queue between read and write.
const OPEN_ATTEMPTS: usize = 3;

/// The control script's reply: paused, max or '', prequeued, waiting, active.
type ControlReply = (String, String, i64, i64, i64);

/// The queue port on Redis. Every step is one Lua script: atomic, so the cap
/// and FIFO hold however many instances run the admitter at once.
pub struct RedisQueueStore {
    connection: ConnectionManager,
    keys: Keys,
}

/// Redis being unreachable or slow is an outage (503); anything else is a bug.
fn redis_err(err: RedisError) -> DomainError {
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
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
    pub fn new(connection: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            connection,
            keys: Keys::new(prefix),
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[String],
    ) -> Result<T, DomainError> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(self.keys.prefix());
        for arg in args {
            invocation.arg(arg);
        }
        invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(redis_err)
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
        let args = [
            request.concert_id.0.to_string(),
            request.user_id.0.to_string(),
            request.new_token.0.clone(),
            ms(request.now),
            ms(request.now + request.policy.active_ttl),
            request.policy.max_active.to_string(),
            KEEP_EXPIRED.num_milliseconds().to_string(),
            if request.prequeue { "1" } else { "0" }.to_owned(),
        ];
        let (token, created): (String, i64) = self.run(&ISSUE, &args).await?;
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
        let found: Option<FoundToken> = self.run(&FIND, &[token.to_owned()]).await?;
        Ok(found.map(|f| Self::ticket(token, f, now)).transpose()?)
    }

    async fn admit(
        &self,
        concert_id: ConcertId,
        policy: QueuePolicy,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let args = [
            concert_id.0.to_string(),
            ms(now),
            ms(now + policy.active_ttl),
            policy.max_active.to_string(),
            KEEP_EXPIRED.num_milliseconds().to_string(),
        ];
        self.run(&ADMIT, &args).await
    }

    async fn waiting_lines(&self) -> Result<Vec<QueueLine>, DomainError> {
        let flat: Vec<i64> = self.run(&LINES, &[]).await?;
        Ok(flat
            .chunks_exact(3)
            .map(|line| QueueLine {
                concert_id: ConcertId(line[0]),
                waiting: line[1].max(0) as u64,
                prequeued: line[2].max(0) as u64,
            })
            .collect())
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
            let mut args = vec![concert_id.0.to_string(), ms(now)];
            args.extend(draw_line_order(members, rng.as_ref()));
            let moved: i64 = self.run(&OPEN, &args).await?;
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
            concert_id.0.to_string(),
            ms(now),
            patch
                .paused
                .map_or(String::new(), |p| if p { "1" } else { "0" }.to_owned()),
            patch.max_active.map_or(String::new(), |m| m.to_string()),
        ];
        let (paused, max, prequeued, waiting, active): ControlReply =
            self.run(&CONTROL, &args).await?;
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
            concert_id.0.to_string(),
            user_id.0.to_string(),
            ms(now),
            KEEP_EXPIRED.num_milliseconds().to_string(),
        ];
        let _: i64 = self.run(&EXPIRE_ACTIVE, &args).await?;
        Ok(())
    }
}
