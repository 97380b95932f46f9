//! Per-client-IP rate limits on sign-up, login and queue join: abuse
//! protection in front of the use cases. Limits are kept in memory, so each
//! instance counts on its own (N instances admit up to N times the rate).

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::marker::PhantomData;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::{ApiError, AppState};

/// Past this many remembered clients, those whose budget is whole again are
/// forgotten, at most once per [`PRUNE_EVERY`] so that a flood of addresses
/// does not turn every request into a scan.
const PRUNE_ABOVE: usize = 10_000;
const PRUNE_EVERY: Duration = Duration::from_secs(1);

struct Clients {
    whole_at: HashMap<IpAddr, Instant>,
    pruned_at: Option<Instant>,
}

/// A generic cell rate limiter per client: `per_minute` requests at once, then
/// one every `60 s / per_minute`. It remembers one instant per client, the
/// time at which that client's budget would be whole again.
pub struct Limiter {
    interval: Duration,
    burst: Duration,
    clients: Mutex<Clients>,
}

impl Limiter {
    /// Allows `per_minute` requests a minute per client, all of them at once if need be.
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        let interval = Duration::from_secs(60) / per_minute.get();
        Self {
            interval,
            burst: interval * per_minute.get(),
            clients: Mutex::new(Clients {
                whole_at: HashMap::new(),
                pruned_at: None,
            }),
        }
    }

    /// `Ok` if `client` may make a request at `now`, else how long it must wait.
    pub fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked mid-update; the map is still usable.
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let whole_at = clients
            .whole_at
            .get(&client)
            .copied()
            .unwrap_or(now)
            .max(now);
        let next = whole_at + self.interval;
        let debt = next - now;
        if debt > self.burst {
            return Err(debt - self.burst);
        }
        let prune_due = clients
            .pruned_at
            .is_none_or(|at| now.saturating_duration_since(at) >= PRUNE_EVERY);
        if clients.whole_at.len() >= PRUNE_ABOVE && prune_due {
            clients.whole_at.retain(|_, at| *at > now);
            clients.pruned_at = Some(now);
        }
        clients.whole_at.insert(client, next);
        Ok(())
    }
}

/// An address or a CIDR block (`10.0.0.0/8`) of proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR block"))?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("'{s}': prefix must be 0–{width}"))?,
            None => width,
        };
        Ok(Self { network, prefix })
    }
}

/// The limits of one instance; `None` means unlimited.
#[derive(Default)]
pub struct RateLimits {
    /// `POST /api/v1/users`.
    pub sign_up: Option<Limiter>,
    /// `POST /api/v1/auth/token`.
    pub log_in: Option<Limiter>,
    /// `POST /api/v1/concerts/{concertId}/queue/tokens`.
    pub join_queue: Option<Limiter>,
    /// Peers whose `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Vec<TrustedProxy>,
}

impl RateLimits {
    /// The client's address: the peer, or behind trusted proxies the last
    /// address in `X-Forwarded-For` that is not one of them (the ones before
    /// it could be written by the client itself).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .iter()
                .rev()
                .find(|ip| !self.trusted(**ip))
                .or(forwarded.first())
                .copied()
                .unwrap_or(peer),
        )
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|p| p.contains(ip))
    }
}

/// Which limit an endpoint is under.
pub trait LimitKind {
    /// The endpoint's limiter among the instance's limits.
    fn limiter(limits: &RateLimits) -> Option<&Limiter>;
}

/// Sign-up's limit.
pub struct SignUp;
/// Login's limit.
pub struct LogIn;
/// Queue join's limit.
pub struct JoinQueue;

impl LimitKind for SignUp {
    fn limiter(limits: &RateLimits) -> Option<&Limiter> {
        limits.sign_up.as_ref()
    }
}

impl LimitKind for LogIn {
    fn limiter(limits: &RateLimits) -> Option<&Limiter> {
        limits.log_in.as_ref()
    }
}

impl LimitKind for JoinQueue {
    fn limiter(limits: &RateLimits) -> Option<&Limiter> {
        limits.join_queue.as_ref()
    }
}

/// Passes when the client is within the endpoint's limit; otherwise 429
/// TOO_MANY_REQUESTS with `Retry-After`. Put it first among a handler's
/// extractors, so refused requests cost nothing else.
pub struct RateLimited<K>(PhantomData<K>);

impl<K: LimitKind> FromRequest for RateLimited<K> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verdict = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| {
                let limiter = K::limiter(&state.limits)?;
                let client = state.limits.client_ip(req)?;
                limiter.check_at(client, Instant::now()).err()
            })
            .map(|wait| ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        ready(match verdict {
            Some(refused) => Err(refused),
            None => Ok(Self(PhantomData)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_minutes_budget_at_once_then_one_per_interval() {
        let limiter = Limiter::per_minute(NonZeroU32::new(3).unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at(ip("10.0.0.1"), t0).is_ok());
        }
        assert_eq!(
            limiter.check_at(ip("10.0.0.1"), t0),
            Err(Duration::from_secs(20))
        );
        assert!(limiter.check_at(ip("10.0.0.2"), t0).is_ok(), "per client");
        let later = t0 + Duration::from_secs(20);
        assert!(limiter.check_at(ip("10.0.0.1"), later).is_ok());
        assert!(limiter.check_at(ip("10.0.0.1"), later).is_err());
    }

    #[test]
    fn clients_whose_budget_is_whole_again_are_forgotten() {
        let limiter = Limiter::per_minute(NonZeroU32::new(60).unwrap());
        let t0 = Instant::now();
        for i in 0..PRUNE_ABOVE as u32 {
            assert!(limiter.check_at(IpAddr::from(i.to_be_bytes()), t0).is_ok());
        }
        let later = t0 + Duration::from_secs(2);
        assert!(limiter.check_at(ip("192.0.2.1"), later).is_ok());
        let clients = limiter.clients.lock().unwrap();
        assert_eq!(clients.whole_at.len(), 1, "only the newcomer is remembered");
    }

    #[test]
    fn proxies_parse_as_addresses_or_blocks() {
        let block: TrustedProxy = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(!block.contains(ip("::1")));
        let one: TrustedProxy = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!("0.0.0.0/0"
            .parse::<TrustedProxy>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        for bad in ["proxy", "10.0.0.0/33", "::/129", "1.2.3.4/x"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let request = |peer: &str, xff: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().unwrap())
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request()
        };
        let untrusting = RateLimits::default();
        let spoofed = request("203.0.113.9", "1.1.1.1");
        assert_eq!(untrusting.client_ip(&spoofed), Some(ip("203.0.113.9")));

        let behind = RateLimits {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..Default::default()
        };
        let chained = request("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9");
        assert_eq!(behind.client_ip(&chained), Some(ip("198.51.100.7")));
        let garbage = request("10.0.0.5", "not an address");
        assert_eq!(behind.client_ip(&garbage), Some(ip("10.0.0.5")));
        let direct = request("198.51.100.8", "6.6.6.6");
        assert_eq!(behind.client_ip(&direct), Some(ip("198.51.100.8")));
    }
}
