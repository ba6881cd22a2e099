//! Idempotency keys inside the caller's write transaction (see the store crate's docs).

use bankfeeds_domain::Timestamp;
use bankfeeds_store::{Idem, StoreError, StoreResult, StoredResponse};
use sqlx::SqliteConnection;

use crate::{db, map_err, time};

/// Claims the key (if the request has one) for this transaction, or returns the answer saved by
/// an earlier request.
pub async fn begin<T>(
    tx: &mut SqliteConnection,
    idem: Option<Idem<'_, T>>,
    now: Timestamp,
) -> StoreResult<Option<StoredResponse>> {
    let Some(Idem { key, .. }) = idem else {
        return Ok(None);
    };
    let claimed = db::execute(
        sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, status, body, created_at)
             VALUES (?, ?, ?, 0, '', ?) ON CONFLICT DO NOTHING",
        )
        .bind(key.org_id.to_string())
        .bind(&key.key)
        .bind(&key.fingerprint)
        .bind(time::to_db(now)),
        &mut *tx,
    )
    .await?;
    if claimed == 1 {
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

/// Saves the answer to `done` for the key claimed by `begin` (if any), in the same transaction
/// as the work.
pub async fn finish<T>(
    tx: &mut SqliteConnection,
    idem: Option<Idem<'_, T>>,
    done: &T,
) -> StoreResult<()> {
    let Some(Idem { key, render }) = idem else {
        return Ok(());
    };
    let response = render(done);
    db::execute(
        sqlx::query(
            "UPDATE idempotency_keys SET status = ?, body = ? WHERE org_id = ? AND key = ?",
        )
        .bind(i64::from(response.status))
        .bind(response.body)
        .bind(key.org_id.to_string())
        .bind(&key.key),
        &mut *tx,
    )
    .await?;
    Ok(())
}
