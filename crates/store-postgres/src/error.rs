use bankfeeds_store::StoreError;

/// Maps sqlx errors to store errors; PostgreSQL names the constraint that was broken.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let name = KNOWN_CONSTRAINTS
                .iter()
                .find(|known| db.constraint() == Some(**known))
                .copied()
                .unwrap_or("unique");
            StoreError::Conflict(name)
        }
        _ => StoreError::Backend(Box::new(e)),
    }
}

const KNOWN_CONSTRAINTS: &[&str] = &[
    "orgs_client_id_key",
    "connections_access_token_hash_key",
    "orgs_pkey",
    "connections_pkey",
    "bank_feed_accounts_internal_id_key",
    "transactions_account_transaction_id_key",
    "jobs_id_key",
];
