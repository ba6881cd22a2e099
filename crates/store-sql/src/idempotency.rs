//! Idempotency keys inside the caller's write transaction (see the store crate's docs).

use bankfeeds_domain::Timestamp;
use bankfeeds_store::decode::corrupt;
use bankfeeds_store::{Idem, StoreError, StoreResult, StoredResponse};

use crate::{DbInt, Exec, Sql};

#[derive(sqlx::FromRow)]
struct SavedRow {
    fingerprint: String,
    status: DbInt,
    body: String,
}

/// Claims the key (if the request has one) for this transaction, or returns the answer saved by
/// an earlier request.
///
/// On PostgreSQL, when another transaction holds the same key uncommitted, the INSERT waits for
/// it: if it commits, nothing is inserted and the read below (a new snapshot under READ
/// COMMITTED) sees its saved answer; if it rolls back, this transaction claims the key. SQLite's
/// one writer never sees an uncommitted claim.
pub async fn begin<T>(
    tx: &mut impl Exec,
    idem: Option<Idem<'_, T>>,
    now: Timestamp,
) -> StoreResult<Option<StoredResponse>> {
    let Some(Idem { key, .. }) = idem else {
        return Ok(None);
    };
    let claimed = tx
        .execute(
            Sql::new(
                "INSERT INTO idempotency_keys (org_id, key, fingerprint, status, body, created_at)
                 VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT DO NOTHING",
            )
            .bind(key.org_id.as_uuid())
            .bind(&key.key)
            .bind(&key.fingerprint)
            .bind(now),
        )
        .await?;
    if claimed == 1 {
        return Ok(None);
    }
    let saved: SavedRow = tx
        .fetch_one(
            Sql::new(
                "SELECT fingerprint, status, body FROM idempotency_keys
                 WHERE org_id = $1 AND key = $2",
            )
            .bind(key.org_id.as_uuid())
            .bind(&key.key),
        )
        .await?;
    if saved.fingerprint != key.fingerprint {
        return Err(StoreError::IdempotencyKeyReused);
    }
    if saved.status.0 == 0 {
        // Claimed but unanswered: only a transaction still in flight leaves that, and the
        // INSERT above waited for it to finish, so this should not happen.
        return Err(StoreError::Conflict("idempotency_key_in_progress"));
    }
    let status = u16::try_from(saved.status.0).map_err(|_| corrupt("idempotency_keys.status"))?;
    Ok(Some(StoredResponse {
        status,
        body: saved.body,
    }))
}

/// Saves the answer to `done` for the key claimed by `begin` (if any), in the same transaction
/// as the work.
pub async fn finish<T>(tx: &mut impl Exec, idem: Option<Idem<'_, T>>, done: &T) -> StoreResult<()> {
    let Some(Idem { key, render }) = idem else {
        return Ok(());
    };
    let response = render(done);
    tx.execute(
        Sql::new(
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE org_id = $3 AND key = $4",
        )
        .bind(i64::from(response.status))
        .bind(response.body)
        .bind(key.org_id.as_uuid())
        .bind(&key.key),
    )
    .await?;
    Ok(())
}
