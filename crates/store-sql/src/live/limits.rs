//! `LiveLimitStore`: Xero's per-tenant budget in `live_tenant_limits` (migration 0035), read
//! under the row's lock and decided by `domain::live::rate`, so every instance draws on one.

use std::time::Duration;

use bankfeeds_domain::live::rate::{admit, hold, Allowance, TenantBudget};
use bankfeeds_domain::Timestamp;
use bankfeeds_store::decode::corrupt;
use bankfeeds_store::{LiveLimitStore, StoreResult};

use crate::{Backend, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct BudgetRow {
    arrivals: String,
    held_until: Option<DbTime>,
}

/// `arrivals` as stored: RFC 3339 times separated by spaces, `-` for none.
fn arrivals_text(b: &TenantBudget) -> String {
    let words: Vec<String> = b
        .arrivals
        .iter()
        .map(|a| a.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()))
        .collect();
    words.join(" ")
}

fn budget_of(r: BudgetRow) -> StoreResult<TenantBudget> {
    let arrivals = r
        .arrivals
        .split_whitespace()
        .map(|w| match w {
            "-" => Ok(None),
            t => chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| Some(t.to_utc()))
                .map_err(|_| corrupt("live_tenant_limits.arrivals")),
        })
        .collect::<StoreResult<_>>()?;
    Ok(TenantBudget {
        arrivals,
        held_until: r.held_until.map(|t| t.0),
    })
}

/// The tenant's budget, its row created if need be and locked until the transaction ends (so
/// two instances' first calls cannot both read an empty budget).
async fn load<B: Backend>(
    tx: &mut impl Exec,
    tenant: &str,
    now: Timestamp,
) -> StoreResult<TenantBudget> {
    tx.execute(
        Sql::new(
            "INSERT INTO live_tenant_limits (tenant_id, arrivals, held_until, updated_at)
             VALUES ($1, '', NULL, $2) ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(now),
    )
    .await?;
    let sql = format!(
        "SELECT arrivals, held_until FROM live_tenant_limits WHERE tenant_id = $1{}",
        B::DIALECT.for_update()
    );
    let row: BudgetRow = tx.fetch_one(Sql::new(sql).bind(tenant)).await?;
    budget_of(row)
}

async fn save(
    tx: &mut impl Exec,
    tenant: &str,
    b: &TenantBudget,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "UPDATE live_tenant_limits SET arrivals = $1, held_until = $2, updated_at = $3
             WHERE tenant_id = $4",
        )
        .bind(arrivals_text(b))
        .bind(b.held_until)
        .bind(now)
        .bind(tenant),
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<B: Backend> LiveLimitStore for SqlStore<B> {
    async fn take_tenant_call(
        &self,
        tenant: &str,
        allowances: &[Allowance],
        now: Timestamp,
    ) -> StoreResult<Result<(), Duration>> {
        let mut tx = self.0.write().await?;
        let budget = load::<B>(&mut tx, tenant, now).await?;
        let decided = admit(&budget, allowances, now);
        if let Ok(next) = &decided {
            save(&mut tx, tenant, next, now).await?;
        }
        tx.commit().await?;
        Ok(decided.map(|_| ()))
    }

    async fn hold_tenant(&self, tenant: &str, wait: Duration, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        let budget = load::<B>(&mut tx, tenant, now).await?;
        save(&mut tx, tenant, &hold(&budget, wait, now), now).await?;
        tx.commit().await
    }
}
