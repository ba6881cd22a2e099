//! Xero's limits per tenant (organisation): 60 calls in any rolling minute and 5,000 in any
//! rolling day (`domain::live::rate`). Every call to a tenant takes a permit here first; a
//! 429's `Retry-After` holds the tenant until then. A hub serving live feeds keeps the budget
//! in the database (`TenantLimiter::shared`), so several instances draw on Xero's one
//! allowance per tenant and all of them respect a 429; without a store (tests, tools) it is
//! kept in this process by the same rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bankfeeds_domain::live::rate::{admit, hold, Allowance, TenantBudget, XERO};
use bankfeeds_domain::{Clock, SystemClock};
use bankfeeds_store::DynStore;

/// How long to wait when the database cannot say (better late than over Xero's limit).
const UNSURE: Duration = Duration::from_secs(1);

pub struct TenantLimiter {
    allowances: Vec<Allowance>,
    clock: Arc<dyn Clock>,
    /// Where the budgets live when instances share them.
    store: Option<DynStore>,
    local: Mutex<HashMap<String, TenantBudget>>,
}

impl Default for TenantLimiter {
    fn default() -> Self {
        Self::new(&XERO)
    }
}

impl TenantLimiter {
    /// Budgets kept in this process, by `allowances`.
    pub fn new(allowances: &[Allowance]) -> Self {
        Self {
            allowances: allowances.to_vec(),
            clock: Arc::new(SystemClock),
            store: None,
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Xero's allowances, kept in `store` and shared by every instance on it.
    pub fn shared(store: DynStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            store: Some(store),
            ..Self::default()
        }
    }

    /// A permit for one call to `tenant` now, or how long to wait for one.
    pub async fn try_acquire(&self, tenant: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        let Some(store) = &self.store else {
            let mut local = self.local.lock().expect("limiter lock");
            let budget = local.entry(tenant.to_owned()).or_default();
            *budget = admit(budget, &self.allowances, now)?;
            return Ok(());
        };
        match store.take_tenant_call(tenant, &self.allowances, now).await {
            Ok(decided) => decided,
            Err(e) => {
                tracing::warn!(error = %e, "could not read Xero's call budget; waiting");
                Err(UNSURE)
            }
        }
    }

    /// Waits (up to `most`) for a permit; the wait that would be needed when it is longer.
    pub async fn acquire(&self, tenant: &str, most: Duration) -> Result<(), Duration> {
        loop {
            match self.try_acquire(tenant).await {
                Ok(()) => return Ok(()),
                Err(wait) if wait > most => return Err(wait),
                Err(wait) => tokio::time::sleep(wait.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Xero said 429: no call to `tenant` for `wait` (from any instance, when shared).
    pub async fn hold(&self, tenant: &str, wait: Duration) {
        let now = self.clock.now();
        let Some(store) = &self.store else {
            let mut local = self.local.lock().expect("limiter lock");
            let budget = local.entry(tenant.to_owned()).or_default();
            *budget = hold(budget, wait, now);
            return;
        };
        if let Err(e) = store.hold_tenant(tenant, wait, now).await {
            tracing::warn!(error = %e, "could not record Xero's 429 hold");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_gets_half_its_minute_at_once_and_others_are_untouched() {
        let limiter = TenantLimiter::default();
        for _ in 0..30 {
            assert!(limiter.try_acquire("t1").await.is_ok());
        }
        let wait = limiter.try_acquire("t1").await.unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert!(limiter.try_acquire("t2").await.is_ok(), "per tenant");
    }

    #[tokio::test]
    async fn the_day_budget_binds_too() {
        let two_a_day = Allowance {
            calls: 2,
            period: Duration::from_secs(86_400),
        };
        let limiter = TenantLimiter::new(&[Allowance::XERO_MINUTE, two_a_day]);
        assert!(limiter.try_acquire("t").await.is_ok());
        let wait = limiter.try_acquire("t").await.unwrap_err();
        assert!(wait > Duration::from_secs(3600), "{wait:?}");
    }

    #[tokio::test]
    async fn retry_after_holds_the_tenant() {
        let limiter = TenantLimiter::default();
        limiter.hold("t", Duration::from_secs(30)).await;
        let wait = limiter.try_acquire("t").await.unwrap_err();
        assert!(wait > Duration::from_secs(29));
        assert!(limiter.try_acquire("u").await.is_ok());
        limiter.hold("u", Duration::ZERO).await;
        assert!(
            limiter.try_acquire("u").await.is_ok(),
            "an elapsed hold is gone"
        );
    }
}
