//! Xero's limits per tenant (organisation): 60 calls a minute and 5,000 a day. Every call to a
//! tenant takes a permit here first; a 429's `Retry-After` holds the tenant until then. The
//! budget is per hub instance (Xero counts per app and tenant, so several instances share the
//! one allowance: configure fewer per minute on each when running many).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Calls a minute and a day Xero allows one tenant.
pub const PER_MINUTE: u32 = 60;
pub const PER_DAY: u32 = 5_000;

pub struct TenantLimiter {
    minute: DefaultKeyedRateLimiter<String>,
    day: DefaultKeyedRateLimiter<String>,
    held: Mutex<HashMap<String, Instant>>,
}

impl Default for TenantLimiter {
    fn default() -> Self {
        Self::new(PER_MINUTE, PER_DAY)
    }
}

impl TenantLimiter {
    /// At most `per_minute` calls a minute and `per_day` a day per tenant (each at least 1).
    pub fn new(per_minute: u32, per_day: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        let per_day = NonZeroU32::new(per_day.max(1)).expect("non-zero");
        Self {
            minute: RateLimiter::keyed(Quota::per_minute(per_minute)),
            day: RateLimiter::keyed(
                Quota::with_period(Duration::from_secs(86_400) / per_day.get())
                    .expect("non-zero period")
                    .allow_burst(per_day),
            ),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// A permit for one call to `tenant` now, or how long to wait for one.
    pub fn try_acquire(&self, tenant: &str) -> Result<(), Duration> {
        if let Some(wait) = self.held_for(tenant) {
            return Err(wait);
        }
        let key = tenant.to_owned();
        let now = DefaultClock::default().now();
        self.day
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(now))?;
        self.minute
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Waits (up to `most`) for a permit; the wait that would be needed when it is longer.
    pub async fn acquire(&self, tenant: &str, most: Duration) -> Result<(), Duration> {
        loop {
            match self.try_acquire(tenant) {
                Ok(()) => return Ok(()),
                Err(wait) if wait > most => return Err(wait),
                Err(wait) => tokio::time::sleep(wait.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Xero said 429: no call to `tenant` for `wait`.
    pub fn hold(&self, tenant: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut held = self.held.lock().expect("limiter lock");
        let entry = held.entry(tenant.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    fn held_for(&self, tenant: &str) -> Option<Duration> {
        let mut held = self.held.lock().expect("limiter lock");
        let until = *held.get(tenant)?;
        let now = Instant::now();
        if until <= now {
            held.remove(tenant);
            return None;
        }
        Some(until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_its_minute_budget_and_no_more_others_are_untouched() {
        let limiter = TenantLimiter::new(3, 100);
        for _ in 0..3 {
            assert!(limiter.try_acquire("t1").is_ok());
        }
        let wait = limiter.try_acquire("t1").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20));
        assert!(limiter.try_acquire("t2").is_ok(), "per tenant");
    }

    #[test]
    fn the_day_budget_binds_too() {
        let limiter = TenantLimiter::new(60, 2);
        assert!(limiter.try_acquire("t").is_ok());
        assert!(limiter.try_acquire("t").is_ok());
        let wait = limiter.try_acquire("t").unwrap_err();
        assert!(wait > Duration::from_secs(3600), "{wait:?}");
    }

    #[test]
    fn retry_after_holds_the_tenant() {
        let limiter = TenantLimiter::default();
        limiter.hold("t", Duration::from_secs(30));
        let wait = limiter.try_acquire("t").unwrap_err();
        assert!(wait > Duration::from_secs(29));
        assert!(limiter.try_acquire("u").is_ok());
        limiter.hold("u", Duration::ZERO);
        assert!(limiter.try_acquire("u").is_ok(), "an elapsed hold is gone");
    }
}
