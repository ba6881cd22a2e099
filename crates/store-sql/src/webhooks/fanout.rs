//! Fan-out: from the events feed to one delivery per (endpoint, event) the endpoint's filter
//! takes. Run by the delivery worker, never by the transaction that writes the event, so
//! ingest never waits on it. Each endpoint keeps its own feed cursor; the endpoint's row is
//! locked (`SKIP LOCKED` on PostgreSQL) while its page is fanned out and the cursor moved, in
//! one transaction, so two hub instances never fan one event out twice to one endpoint.

use bankfeeds_domain::webhook::{EventCursor, WebhookStatus};
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{EventKind, StoreResult};

use super::feed;
use crate::{Backend, DbId, DbInt, Exec, Sql};

#[derive(sqlx::FromRow)]
struct EndpointCursor {
    id: DbId,
    org_id: DbId,
    event_types: String,
    status: String,
    cursor_tx: Option<DbInt>,
    cursor_seq: Option<DbInt>,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    tx: DbInt,
    seq: DbInt,
}

/// The organisation's newest place in the feed among the events committed so far (what an
/// endpoint created now starts after). Not held back by the feed's horizon: an event committed
/// before the endpoint was created is never sent to it, even while another transaction keeps
/// the feed from listing it yet. One still in flight when the endpoint is created may or may
/// not be (it is concurrent with the creation).
pub async fn head(db: &mut impl Exec, org: OrgId) -> StoreResult<EventCursor> {
    let sql = "SELECT tx, seq FROM events WHERE org_id = $1 ORDER BY tx DESC, seq DESC LIMIT 1";
    let row: Option<HeadRow> = db.fetch_optional(Sql::new(sql).bind(org.as_uuid())).await?;
    Ok(row
        .map(|r| EventCursor {
            tx: r.tx.0,
            seq: r.seq.0,
        })
        .unwrap_or_default())
}

/// The place of the event about `resource` this transaction just recorded.
pub async fn own_event(db: &mut impl Exec, org: OrgId, resource: &str) -> StoreResult<EventCursor> {
    let sql = "SELECT tx, seq FROM events WHERE org_id = $1 AND resource_id = $2
               ORDER BY seq DESC LIMIT 1";
    let row: HeadRow = db
        .fetch_optional(Sql::new(sql).bind(org.as_uuid()).bind(resource))
        .await?
        .ok_or(bankfeeds_store::StoreError::NotFound)?;
    Ok(EventCursor {
        tx: row.tx.0,
        seq: row.seq.0,
    })
}

async fn set_cursor(db: &mut impl Exec, endpoint: &DbId, c: EventCursor) -> StoreResult<()> {
    db.execute(
        Sql::new("UPDATE webhook_endpoints SET cursor_tx = $1, cursor_seq = $2 WHERE id = $3")
            .bind(c.tx)
            .bind(c.seq)
            .bind(endpoint.0),
    )
    .await?;
    Ok(())
}

/// Fans one page out for every endpoint this transaction could lock; returns the events read.
pub async fn fan_out<B: Backend>(
    db: &mut impl Exec,
    page: u32,
    now: Timestamp,
) -> StoreResult<u64> {
    let sql = format!(
        "SELECT id, org_id, event_types, status, cursor_tx, cursor_seq FROM webhook_endpoints
         ORDER BY id{}",
        B::DIALECT.skip_locked(None)
    );
    let endpoints: Vec<EndpointCursor> = db.fetch_all(Sql::new(sql)).await?;
    let mut read = 0u64;
    for e in endpoints {
        let org: OrgId = e.org_id.0.into();
        let (Some(tx), Some(seq)) = (e.cursor_tx, e.cursor_seq) else {
            // Endpoints from before deliveries existed start at the feed's head.
            let at = head(db, org).await?;
            set_cursor(db, &e.id, at).await?;
            continue;
        };
        let after = EventCursor {
            tx: tx.0,
            seq: seq.0,
        };
        let events = feed::list::<B>(db, org, after, &[], page).await?;
        let Some((last, _)) = events.last() else {
            continue;
        };
        let last = *last;
        read += events.len() as u64;
        let enabled = known(WebhookStatus::parse(&e.status), "webhook_endpoints.status")?
            == WebhookStatus::Enabled;
        let wanted: Vec<EventKind> = e
            .event_types
            .split_whitespace()
            .filter_map(EventKind::parse)
            .collect();
        for (_, ev) in events.iter().filter(|_| enabled) {
            if !wanted.is_empty() && !wanted.contains(&ev.kind) {
                continue;
            }
            insert(db, &e.id, org, ev.seq, now).await?;
        }
        set_cursor(db, &e.id, last).await?;
    }
    Ok(read)
}

/// A pending delivery of event `event_seq` to the endpoint, due at once.
pub async fn insert(
    db: &mut impl Exec,
    endpoint: &DbId,
    org: OrgId,
    event_seq: i64,
    now: Timestamp,
) -> StoreResult<()> {
    db.execute(
        Sql::new(
            "INSERT INTO webhook_deliveries (endpoint_id, org_id, event_seq, status, tries,
                 next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)",
        )
        .bind(endpoint.0)
        .bind(org.as_uuid())
        .bind(event_seq)
        .bind(now),
    )
    .await?;
    Ok(())
}
