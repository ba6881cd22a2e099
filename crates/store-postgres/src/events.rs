//! The event outbox: appended in the same transaction as the change it describes.

use async_trait::async_trait;

use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::{json, known};
use bankfeeds_store::{Event, EventKind, NewEvent, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::map_err;
use crate::PostgresStore;

/// Records the event in the caller's transaction.
pub async fn append(tx: &mut PgConnection, e: &NewEvent, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events (org_id, connection_id, event_type, resource_id, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.org_id.as_uuid())
    .bind(e.connection_id.map(|c| c.as_uuid()))
    .bind(e.kind.as_str())
    .bind(&e.resource_id)
    .bind(e.payload.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[derive(FromRow)]
struct EventRow {
    seq: i64,
    org_id: Uuid,
    connection_id: Option<Uuid>,
    event_type: String,
    resource_id: String,
    payload: String,
    created_at: Timestamp,
}

#[async_trait]
impl bankfeeds_store::EventStore for PostgresStore {
    async fn list_events(&self, org: OrgId, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, org_id, connection_id, event_type, resource_id, payload, created_at
         FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(org.as_uuid())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(Event {
                    seq: r.seq,
                    org_id: r.org_id.into(),
                    connection_id: r.connection_id.map(Into::into),
                    kind: known(EventKind::parse(&r.event_type), "events.event_type")?,
                    resource_id: r.resource_id,
                    payload: json(&r.payload, "events.payload")?,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}
