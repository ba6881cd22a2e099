//! Deleting an organisation (`bankfeeds org delete`): every row it owns, in one transaction,
//! children before parents so each foreign key holds at every step. The organisation must be
//! disabled first (`Org::may_be_deleted`).
//!
//! `ERASED` names every table that holds an organisation's rows and how they are found; a
//! table is either here or in `NOT_OWNED` (the unit test below reads both engines' migrations
//! and fails on a table in neither, so a new table cannot be forgotten).

use bankfeeds_domain::OrgId;
use bankfeeds_store::{StoreError, StoreResult};

use crate::{Backend, Exec, Sql, SqlStore, Tx};

/// Rows found by a subquery on another table's `org_id`.
const OF_ORG_JOBS: &str = "job_id IN (SELECT id FROM jobs WHERE org_id = $1)";
const OF_ORG_ACCOUNTS: &str = "account_id IN (SELECT id FROM bank_feed_accounts WHERE org_id = $1)";
const OF_ORG_CUSTOMERS: &str = "customer_id IN (SELECT id FROM customers WHERE org_id = $1)";
const OWN: &str = "org_id = $1";

/// In deletion order: each table after every table that references it.
pub const ERASED: &[(&str, &str)] = &[
    ("webhook_attempts", OWN),
    ("webhook_deliveries", OWN),
    ("webhook_endpoints", OWN),
    ("job_request_bodies", OF_ORG_JOBS),
    ("job_response_bodies", OF_ORG_JOBS),
    ("job_org_turns", OWN),
    ("live_feed_deletions", OWN),
    ("live_consents", OWN),
    ("live_statements", OWN),
    ("live_feeds", OWN),
    ("live_tenants", OWN),
    ("platform_connectors", OWN),
    // What a sandbox platform ingested of the organisation's feeds.
    ("statements", OF_ORG_ACCOUNTS),
    ("company_feeds", OF_ORG_ACCOUNTS),
    ("closed_days", OWN),
    ("balance_reports", OWN),
    ("transactions", OWN),
    ("jobs", OWN),
    ("challenges", OWN),
    ("otps", OWN),
    ("bank_feed_credentials", OWN),
    ("ofx_credentials", OWN),
    ("ofx_trnuids", OWN),
    ("customer_connections", OF_ORG_CUSTOMERS),
    ("customer_tokens", OWN),
    ("customers", OWN),
    ("bank_feed_accounts", OWN),
    ("events", OWN),
    ("idempotency_keys", OWN),
    ("fi_configs", OWN),
    ("operator_sessions", OWN),
    ("operator_setup_tokens", OWN),
    ("operators", OWN),
    ("connections", OWN),
];

/// Tables that hold no organisation's rows: the sandbox platforms' companies (the platform's
/// side, shared by every FI), sign-in throttling by email and address, and the organisations.
pub const NOT_OWNED: &[&str] = &[
    "companies",
    "console_login_throttle",
    // Xero's budget per tenant, shared by every organisation that delivers to that tenant.
    "live_tenant_limits",
    "orgs",
];

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn erase_org(&self, id: OrgId) -> StoreResult<Vec<(&'static str, u64)>> {
        let mut tx = self.0.write().await?;
        let org = crate::orgs::load(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        org.may_be_deleted().map_err(|e| StoreError::Invalid {
            code: "ORGANISATION_NOT_DISABLED",
            message: e.to_string(),
        })?;
        // Sub-accounts point at their parents in the same table.
        tx.execute(
            Sql::new("UPDATE bank_feed_accounts SET parent_id = NULL WHERE org_id = $1")
                .bind(id.as_uuid()),
        )
        .await?;
        let mut erased = Vec::with_capacity(ERASED.len());
        for (table, which) in ERASED {
            let n = tx
                .execute(Sql::new(format!("DELETE FROM {table} WHERE {which}")).bind(id.as_uuid()))
                .await?;
            erased.push((*table, n));
        }
        tx.execute(Sql::new("DELETE FROM orgs WHERE id = $1").bind(id.as_uuid()))
            .await?;
        tx.commit().await?;
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(engine: &str) -> Vec<String> {
        let dir = format!("{}/../{engine}/migrations", env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let sql = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in sql.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let ["CREATE", "TABLE", rest @ ..] = words.as_slice() {
                    let name = rest
                        .iter()
                        .find(|w| !matches!(**w, "IF" | "NOT" | "EXISTS"));
                    out.push(name.unwrap().trim_end_matches('(').to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn every_table_is_erased_with_its_organisation_or_owned_by_none() {
        for engine in ["store-sqlite", "store-postgres"] {
            let found = tables(engine);
            assert!(
                found.len() > 30,
                "{engine}: read the migrations ({found:?})"
            );
            for table in &found {
                assert!(
                    ERASED.iter().any(|(t, _)| t == table) || NOT_OWNED.contains(&table.as_str()),
                    "{engine}: table {table} is neither erased with its organisation \
                     (orgs_delete::ERASED) nor listed as owned by none (NOT_OWNED)"
                );
            }
        }
    }
}
