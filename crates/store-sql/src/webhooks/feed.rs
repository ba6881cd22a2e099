//! The events feed: an organisation's events in an order no later commit can insert into.
//!
//! Rows are ordered by `(tx, seq)`. On SQLite `tx` is always 0 and the one writer commits in
//! `seq` order, so every row is final once visible. On PostgreSQL `tx` is the id of the writing
//! transaction and the feed stops short of the oldest transaction still running
//! (`pg_snapshot_xmin` of the statement's snapshot): every transaction below it has committed
//! or rolled back, and any that starts later gets a larger id, so no event can ever appear
//! before a cursor a reader already holds. The price: an open transaction anywhere on the
//! PostgreSQL server holds back events written after it began, until it ends.

use bankfeeds_domain::webhook::EventCursor;
use bankfeeds_domain::OrgId;
use bankfeeds_store::{Event, EventKind, StoreError, StoreResult};

use crate::events::{EventRow, COLUMNS};
use crate::exec::placeholders;
use crate::{Backend, DbInt, Dialect, Exec, Sql};

#[derive(sqlx::FromRow)]
struct FeedRow {
    tx: DbInt,
    #[sqlx(flatten)]
    event: EventRow,
}

/// The condition that keeps the feed behind every transaction still in flight.
fn horizon(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "",
        Dialect::Postgres => " AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    }
}

pub async fn list<B: Backend>(
    db: &mut impl Exec,
    org: OrgId,
    after: EventCursor,
    kinds: &[EventKind],
    limit: u32,
) -> StoreResult<Vec<(EventCursor, Event)>> {
    let kinds_filter = if kinds.is_empty() {
        String::new()
    } else {
        format!(" AND event_type IN ({})", placeholders(5, kinds.len()))
    };
    let sql = format!(
        "SELECT tx, {COLUMNS} FROM events
         WHERE org_id = $1 AND (tx > $2 OR (tx = $2 AND seq > $3)){kinds_filter}{}
         ORDER BY tx, seq LIMIT $4",
        horizon(B::DIALECT)
    );
    let mut q = Sql::new(sql)
        .bind(org.as_uuid())
        .bind(after.tx)
        .bind(after.seq)
        .bind(limit);
    for k in kinds {
        q.push(k.as_str());
    }
    let rows: Vec<FeedRow> = db.fetch_all(q).await?;
    rows.into_iter()
        .map(|r| {
            let event = Event::try_from(r.event)?;
            let cursor = EventCursor {
                tx: r.tx.0,
                seq: event.seq,
            };
            Ok::<_, StoreError>((cursor, event))
        })
        .collect()
}
