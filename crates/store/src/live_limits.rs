//! Xero's per-tenant call allowances, shared by every hub instance on one database
//! (`domain::live::rate`).

use std::time::Duration;

use async_trait::async_trait;
use bankfeeds_domain::live::rate::Allowance;
use bankfeeds_domain::Timestamp;

use crate::StoreResult;

#[async_trait]
pub trait LiveLimitStore: Send + Sync {
    /// Takes one call to `tenant` at `now` if its budget allows (`rate::admit`, under the
    /// tenant's row lock, so instances share one budget); otherwise how long to wait. A
    /// refused call takes nothing.
    async fn take_tenant_call(
        &self,
        tenant: &str,
        allowances: &[Allowance],
        now: Timestamp,
    ) -> StoreResult<Result<(), Duration>>;

    /// The platform answered 429 asking for `wait`: no instance calls `tenant` before then (a
    /// longer hold already there stays).
    async fn hold_tenant(&self, tenant: &str, wait: Duration, now: Timestamp) -> StoreResult<()>;
}
