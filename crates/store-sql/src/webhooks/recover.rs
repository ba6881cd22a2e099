//! Recovery: the endpoint's past events queued for delivery again, those it was already fanned
//! out (up to its feed cursor) since a given time, as its event filter takes them.

use bankfeeds_domain::webhook::{EventCursor, WebhookEndpoint, WebhookId};
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};

use super::{EndpointRow, COLUMNS};
use crate::{Backend, DbInt, Exec, Sql};

#[derive(sqlx::FromRow)]
struct RecoverRow {
    #[sqlx(flatten)]
    endpoint: EndpointRow,
    cursor_tx: Option<DbInt>,
    cursor_seq: Option<DbInt>,
}

/// The organisation's endpoint, its row locked until the transaction ends, and its feed cursor
/// (`None` when it was never fanned out); `NotFound` when there is no such endpoint.
pub(super) async fn locked_endpoint<B: Backend>(
    tx: &mut impl Exec,
    org: OrgId,
    id: WebhookId,
) -> StoreResult<(WebhookEndpoint, Option<EventCursor>)> {
    let sql = format!(
        "SELECT {COLUMNS}, cursor_tx, cursor_seq FROM webhook_endpoints
         WHERE org_id = $1 AND id = $2{}",
        B::DIALECT.for_update()
    );
    let row: RecoverRow = tx
        .fetch_optional(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
        .await?
        .ok_or(StoreError::NotFound)?;
    let cursor = match (row.cursor_tx, row.cursor_seq) {
        (Some(tx), Some(seq)) => Some(EventCursor {
            tx: tx.0,
            seq: seq.0,
        }),
        _ => None,
    };
    Ok((row.endpoint.try_into()?, cursor))
}

/// Queues again, at most `max`, the events of the endpoint's organisation created since
/// `since` and up to its `cursor`, oldest first; says how many.
pub(super) async fn requeue(
    tx: &mut impl Exec,
    endpoint: &WebhookEndpoint,
    cursor: EventCursor,
    since: Timestamp,
    max: u32,
    now: Timestamp,
) -> StoreResult<u64> {
    let kinds = &endpoint.event_types;
    let filter = if kinds.is_empty() {
        String::new()
    } else {
        format!(
            " AND event_type IN ({})",
            crate::exec::placeholders(8, kinds.len())
        )
    };
    let sql = format!(
        "INSERT INTO webhook_deliveries (endpoint_id, org_id, event_seq, status, tries,
             next_attempt_at, created_at, updated_at)
         SELECT $1, org_id, seq, 'pending', 0, $2, $2, $2 FROM events
         WHERE org_id = $3 AND created_at >= $4
           AND (tx < $5 OR (tx = $5 AND seq <= $6)){filter}
         ORDER BY tx, seq LIMIT $7"
    );
    let mut q = Sql::new(sql)
        .bind(endpoint.id.as_uuid())
        .bind(now)
        .bind(endpoint.org_id.as_uuid())
        .bind(since)
        .bind(cursor.tx)
        .bind(cursor.seq)
        .bind(max);
    for k in kinds {
        q.push(k.as_str());
    }
    tx.execute(q).await
}
