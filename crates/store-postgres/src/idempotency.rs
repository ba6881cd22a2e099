//! Idempotency keys inside the caller's write transaction (see the store crate's docs).

use bankfeeds_domain::Timestamp;
use bankfeeds_store::decode::corrupt;
use bankfeeds_store::{Idem, StoreError, StoreResult, StoredResponse};
use sqlx::PgConnection;

use crate::{db, map_err};

/// Claims the key (if the request has one) for this transaction, or returns the answer saved by
/// an earlier request.
///
/// When another transaction holds the same key uncommitted, the INSERT waits for it: if it
/// commits, nothing is inserted and the read below (a new snapshot under READ COMMITTED) sees
/// its saved answer; if it rolls back, this transaction claims the key.
pub async fn begin<T>(
    tx: &mut PgConnection,
    idem: Option<Idem<'_, T>>,
    now: Timestamp,
) -> StoreResult<Option<StoredResponse>> {
    let Some(Idem { key, .. }) = idem else {
        return Ok(None);
    };
    let claimed = db::execute(
        sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, status, body, created_at)
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT DO NOTHING",
        )
        .bind(key.org_id.as_uuid())
        .bind(&key.key)
        .bind(&key.fingerprint)
        .bind(now),
        &mut *tx,
    )
    .await?;
    if claimed == 1 {
        return Ok(None);
    }
    let (fingerprint, status, body): (String, i32, String) = sqlx::query_as(
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE org_id = $1 AND key = $2",
    )
    .bind(key.org_id.as_uuid())
    .bind(&key.key)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    if fingerprint != key.fingerprint {
        return Err(StoreError::IdempotencyKeyReused);
    }
    if status == 0 {
        // Claimed but unanswered: only a transaction still in flight leaves that, and the
        // INSERT above waited for it to finish, so this should not happen.
        return Err(StoreError::Conflict("idempotency_key_in_progress"));
    }
    let status = u16::try_from(status).map_err(|_| corrupt("idempotency_keys.status"))?;
    Ok(Some(StoredResponse { status, body }))
}

/// Saves the answer to `done` for the key claimed by `begin` (if any), in the same transaction
/// as the work.
pub async fn finish<T>(
    tx: &mut PgConnection,
    idem: Option<Idem<'_, T>>,
    done: &T,
) -> StoreResult<()> {
    let Some(Idem { key, render }) = idem else {
        return Ok(());
    };
    let response = render(done);
    db::execute(
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE org_id = $3 AND key = $4",
        )
        .bind(i32::from(response.status))
        .bind(response.body)
        .bind(key.org_id.as_uuid())
        .bind(&key.key),
        &mut *tx,
    )
    .await?;
    Ok(())
}
