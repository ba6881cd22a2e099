//! sqlx's errors as store errors, the same for both backends.

use bankfeeds_store::StoreError;

/// Maps sqlx errors to store errors. A broken uniqueness rule becomes `Conflict` with the
/// constraint's name: PostgreSQL names it; SQLite names only the columns
/// (`UNIQUE constraint failed: orgs.client_id`), so those are mapped to the name PostgreSQL
/// would report. Callers match on one name for both backends.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let msg = db.message();
            let name = UNIQUE
                .iter()
                .find(|(name, cols)| db.constraint() == Some(*name) || msg.contains(cols))
                .map(|(name, _)| *name)
                .unwrap_or("unique");
            StoreError::Conflict(name)
        }
        _ => StoreError::Backend(Box::new(e)),
    }
}

/// The uniqueness rules callers tell apart: PostgreSQL's constraint name, SQLite's columns.
const UNIQUE: &[(&str, &str)] = &[
    (
        "bank_feed_accounts_internal_id_key",
        "bank_feed_accounts.connection_id, bank_feed_accounts.internal_bank_account_id",
    ),
    (
        "transactions_account_transaction_id_key",
        "transactions.account_id, transactions.transaction_id",
    ),
    ("orgs_client_id_key", "orgs.client_id"),
    (
        "operators_org_email_key",
        "operators.org_id, operators.email",
    ),
    (
        "connections_access_token_hash_key",
        "connections.access_token_hash",
    ),
    ("jobs_id_key", "jobs.id"),
    ("orgs_pkey", "orgs.id"),
    ("connections_pkey", "connections.id"),
];
