//! The event outbox: appended in the same transaction as the change it describes.

use async_trait::async_trait;

use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::{json, known};
use bankfeeds_store::{Event, EventKind, NewEvent, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{map_err, time, SqliteStore};

/// Records the event in the caller's transaction.
pub async fn append(tx: &mut SqliteConnection, e: &NewEvent, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events (org_id, connection_id, event_type, resource_id, payload, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(e.org_id.to_string())
    .bind(e.connection_id.map(|c| c.to_string()))
    .bind(e.kind.as_str())
    .bind(&e.resource_id)
    .bind(e.payload.to_string())
    .bind(time::to_db(now))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[derive(FromRow)]
struct EventRow {
    seq: i64,
    org_id: DbUuid,
    connection_id: Option<DbUuid>,
    event_type: String,
    resource_id: String,
    payload: String,
    created_at: i64,
}

#[async_trait]
impl bankfeeds_store::EventStore for SqliteStore {
    async fn list_events(&self, org: OrgId, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, org_id, connection_id, event_type, resource_id, payload, created_at
         FROM events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(org.to_string())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(Event {
                    seq: r.seq,
                    org_id: r.org_id.into_uuid().into(),
                    connection_id: r.connection_id.map(|u| u.into_uuid().into()),
                    kind: known(EventKind::parse(&r.event_type), "events.event_type")?,
                    resource_id: r.resource_id,
                    payload: json(&r.payload, "events.payload")?,
                    created_at: time::from_db(r.created_at)?,
                })
            })
            .collect()
    }
}
