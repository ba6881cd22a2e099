//! Per-client-address limits, for callers no organisation vouches for: failed authentication
//! and the anonymous routes (link pages, sandbox, demo bank).
//!
//! The client is the peer address the listener hands over as `ConnectInfo<SocketAddr>`; a
//! request without one (a test calling the router directly) counts as one shared unknown
//! client. IPv6 clients are keyed by their /64, the block one host usually holds.
//!
//! Memory stays bounded however many addresses an attacker sends from: keys whose budget has
//! refilled are dropped every few thousand checks, and if more than [`MAX_KEYS`] are still
//! live the limiter starts afresh (everyone's budget refilled) instead of growing.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Who is calling, as far as the limits care: an address (IPv6 by /64), or `None` when unknown.
pub type ClientKey = Option<IpAddr>;

/// Live keys kept at most per limiter.
pub const MAX_KEYS: usize = 100_000;
/// Checks between sweeps of keys whose budget is full again.
const SWEEP_EVERY: u64 = 4096;

/// The client a request comes from.
pub fn client_key(extensions: &Extensions) -> ClientKey {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(match peer.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    })
}

/// The client a request comes from, as an extractor (for handlers that count failures).
pub struct Client(pub ClientKey);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_key(&parts.extensions)))
    }
}

/// A keyed GCRA limiter (governor) over client keys, bounded in size.
pub struct ClientLimiter {
    quota: Quota,
    limiter: RwLock<Arc<DefaultKeyedRateLimiter<ClientKey>>>,
    checks: AtomicU64,
}

impl ClientLimiter {
    /// `n` per `window`, refilled evenly, the whole window allowed as a burst; `None` for 0.
    pub fn new(n: u32, window: Duration) -> Option<Self> {
        let n = NonZeroU32::new(n)?;
        let quota = Quota::with_period(window / n.get())?.allow_burst(n);
        Some(Self {
            quota,
            limiter: RwLock::new(Arc::new(RateLimiter::keyed(quota))),
            checks: AtomicU64::new(0),
        })
    }

    /// Takes one unit of `key`'s budget; when it is spent, the seconds until one is back.
    pub fn check(&self, key: ClientKey) -> Result<(), u64> {
        let limiter = self.limiter.read().expect("limiter lock").clone();
        let outcome = limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs_f64().ceil() as u64).max(1)
        });
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
            || limiter.len() > MAX_KEYS
        {
            self.sweep(&limiter);
        }
        outcome
    }

    fn sweep(&self, limiter: &Arc<DefaultKeyedRateLimiter<ClientKey>>) {
        limiter.retain_recent();
        limiter.shrink_to_fit();
        if limiter.len() > MAX_KEYS {
            tracing::warn!(
                keys = limiter.len(),
                "more live client addresses than the limiter keeps; starting it afresh"
            );
            *self.limiter.write().expect("limiter lock") = Arc::new(RateLimiter::keyed(self.quota));
        }
    }

    /// Live keys (for tests and metrics).
    pub fn len(&self) -> usize {
        self.limiter.read().expect("limiter lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Failed authentication per client: each failure takes from a budget; once it is spent the
/// client is refused (429) before its credentials are even looked at, until the budget refills.
pub struct AuthFailures {
    failures: ClientLimiter,
    blocked: Mutex<HashMap<ClientKey, Instant>>,
}

impl AuthFailures {
    /// `n` failures per minute per client; `None` for 0 (off).
    pub fn per_minute(n: u32) -> Option<Self> {
        Some(Self {
            failures: ClientLimiter::new(n, Duration::from_secs(60))?,
            blocked: Mutex::new(HashMap::new()),
        })
    }

    /// When `key` is refused at the moment, the seconds until it may try again.
    pub fn blocked(&self, key: ClientKey) -> Option<u64> {
        let blocked = self.blocked.lock().expect("blocked lock");
        let until = *blocked.get(&key)?;
        let left = until.checked_duration_since(Instant::now())?;
        Some((left.as_secs_f64().ceil() as u64).max(1))
    }

    /// Records a failure; when it spends the budget, the seconds the client is refused for.
    pub fn failed(&self, key: ClientKey) -> Option<u64> {
        let wait = self.failures.check(key).err()?;
        let mut blocked = self.blocked.lock().expect("blocked lock");
        if blocked.len() >= MAX_KEYS {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() < MAX_KEYS {
            blocked.insert(key, Instant::now() + Duration::from_secs(wait));
        }
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_peer(addr: &str) -> Extensions {
        let mut e = Extensions::new();
        e.insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
        e
    }

    #[test]
    fn clients_are_keyed_by_address_and_ipv6_by_its_64() {
        assert_eq!(client_key(&Extensions::new()), None);
        assert_eq!(
            client_key(&with_peer("10.0.0.1:5000")),
            client_key(&with_peer("10.0.0.1:6000"))
        );
        assert_eq!(
            client_key(&with_peer("[2001:db8:1:2:aaaa::1]:1")),
            client_key(&with_peer("[2001:db8:1:2:bbbb::9]:2"))
        );
        assert_ne!(
            client_key(&with_peer("[2001:db8:1:2::1]:1")),
            client_key(&with_peer("[2001:db8:1:3::1]:1"))
        );
    }

    #[test]
    fn a_spent_budget_blocks_the_client_and_no_other() {
        let failures = AuthFailures::per_minute(3).unwrap();
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(failures.failed(a), None);
        }
        assert!(failures.blocked(a).is_none());
        let wait = failures.failed(a).unwrap();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(failures.blocked(a).is_some());
        assert!(failures.blocked(b).is_none());
        assert!(AuthFailures::per_minute(0).is_none());
    }

    #[test]
    fn many_addresses_do_not_grow_the_limiter_for_ever() {
        let limiter = ClientLimiter::new(10, Duration::from_secs(10)).unwrap();
        for i in 0..(MAX_KEYS as u32 + 10) {
            let _ = limiter.check(Some(IpAddr::V4(i.into())));
        }
        assert!(limiter.len() <= MAX_KEYS, "{}", limiter.len());
    }
}
