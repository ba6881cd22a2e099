use bankfeeds_store::StoreError;

/// Maps sqlx errors to store errors. SQLite names no constraint in its errors, only the columns
/// (`UNIQUE constraint failed: orgs.client_id`), so the table.column is mapped to the constraint
/// name PostgreSQL would report; callers match on one name for both backends.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let msg = db.message();
            let name = UNIQUE_COLUMNS
                .iter()
                .find(|(cols, _)| msg.contains(cols))
                .map(|(_, name)| *name)
                .unwrap_or("unique");
            StoreError::Conflict(name)
        }
        _ => StoreError::Backend(Box::new(e)),
    }
}

const UNIQUE_COLUMNS: &[(&str, &str)] = &[
    (
        "bank_feed_accounts.connection_id, bank_feed_accounts.internal_bank_account_id",
        "bank_feed_accounts_internal_id_key",
    ),
    (
        "transactions.account_id, transactions.transaction_id",
        "transactions_account_transaction_id_key",
    ),
    ("orgs.client_id", "orgs_client_id_key"),
    (
        "connections.access_token_hash",
        "connections_access_token_hash_key",
    ),
    ("jobs.id", "jobs_id_key"),
    ("orgs.id", "orgs_pkey"),
    ("connections.id", "connections_pkey"),
];

/// An id column: stored as hyphenated UUID text, decoded by sqlx itself (a malformed one is a
/// decode error, so a corrupt row never becomes a domain id).
pub(crate) type DbUuid = sqlx::types::uuid::fmt::Hyphenated;
