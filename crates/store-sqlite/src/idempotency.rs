//! Idempotency keys inside the caller's write transaction (see the store crate's docs).

use bankfeeds_domain::Timestamp;
use bankfeeds_store::{IdempotencyKey, StoreError, StoreResult, StoredResponse};
use sqlx::SqliteConnection;

use crate::{map_err, time};

/// Claims the key for this transaction, or returns the answer saved by an earlier request.
pub async fn begin(
    tx: &mut SqliteConnection,
    key: &IdempotencyKey,
    now: Timestamp,
) -> StoreResult<Option<StoredResponse>> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (org_id, key, fingerprint, status, body, created_at)
         VALUES (?, ?, ?, 0, '', ?) ON CONFLICT DO NOTHING",
    )
    .bind(key.org_id.to_string())
    .bind(&key.key)
    .bind(&key.fingerprint)
    .bind(time::to_db(now))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    if claimed.rows_affected() == 1 {
        return Ok(None);
    }
    let (fingerprint, status, body): (String, i64, String) = sqlx::query_as(
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE org_id = ? AND key = ?",
    )
    .bind(key.org_id.to_string())
    .bind(&key.key)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    if fingerprint != key.fingerprint {
        return Err(StoreError::IdempotencyKeyReused);
    }
    Ok(Some(StoredResponse {
        status: status as u16,
        body,
    }))
}

/// Saves the answer for the key claimed by `begin`, in the same transaction as the work.
pub async fn finish(
    tx: &mut SqliteConnection,
    key: &IdempotencyKey,
    response: &StoredResponse,
) -> StoreResult<()> {
    sqlx::query("UPDATE idempotency_keys SET status = ?, body = ? WHERE org_id = ? AND key = ?")
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(key.org_id.to_string())
        .bind(&key.key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(())
}
