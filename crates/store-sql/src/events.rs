//! The event outbox: appended in the same transaction as the change it describes.

use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::{json, known};
use bankfeeds_store::{Event, EventKind, EventStore, NewEvent, StoreError, StoreResult};

use crate::{Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore};

/// The columns `EventRow` reads.
pub(crate) const COLUMNS: &str =
    "seq, org_id, connection_id, event_type, resource_id, payload, created_at";

/// Records the event in the caller's transaction.
pub async fn append(tx: &mut impl Exec, e: &NewEvent, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO events (org_id, connection_id, event_type, resource_id, payload, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(e.org_id.as_uuid())
        .bind(e.connection_id.map(|c| c.as_uuid()))
        .bind(e.kind.as_str())
        .bind(&e.resource_id)
        .bind(e.payload.to_string())
        .bind(now),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: DbInt,
    org_id: DbId,
    connection_id: Option<DbId>,
    event_type: String,
    resource_id: String,
    payload: String,
    created_at: DbTime,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> StoreResult<Self> {
        Ok(Event {
            seq: r.seq.0,
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.map(|c| c.0.into()),
            kind: known(EventKind::parse(&r.event_type), "events.event_type")?,
            resource_id: r.resource_id,
            payload: json(&r.payload, "events.payload")?,
            created_at: r.created_at.0,
        })
    }
}

#[async_trait::async_trait]
impl<B: Backend> EventStore for SqlStore<B> {
    async fn list_events(&self, org: OrgId, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        self.0
            .reader()
            .all::<EventRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(after).bind(limit))
            .await
    }
}
