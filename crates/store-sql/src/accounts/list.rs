//! Listing a connection's accounts: filters on the two time columns, keyset pagination.

use bankfeeds_domain::account::{AccountQuery, AccountSortField, CompareOp, SortDirection};
use bankfeeds_domain::{BankFeedAccount, ConnectionId, Page, Timestamp};
use bankfeeds_store::StoreResult;
use chrono::DateTime;

use super::rows::{AccountRow, COLUMNS};
use crate::{Backend, Dialect, Exec, Sql};

/// The earliest instant a `timestamptz` holds (4714-11-24 BC), in microseconds since 1970.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// Where a microsecond instant falls relative to what the columns can hold: every stored value
/// lies inside, so an instant outside compares the same against all of them.
pub enum Instant {
    BeforeAll,
    At(Timestamp),
    AfterAll,
}

pub fn instant(micros: i64) -> Instant {
    if micros < PG_MIN_MICROS {
        return Instant::BeforeAll;
    }
    // chrono's range ends before PostgreSQL's, and every stored value was read through chrono.
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => Instant::At(t),
        None => Instant::AfterAll,
    }
}

pub async fn list_accounts<B: Backend>(
    db: &B,
    connection: ConnectionId,
    q: &AccountQuery,
) -> StoreResult<Page<BankFeedAccount>> {
    let column = |f: AccountSortField| match f {
        AccountSortField::UpdatedAt => "updated_at",
        AccountSortField::LastSyncedAt => "last_synced_at",
    };
    // A null sort value sorts as the epoch: the cursor's 0 microseconds.
    let epoch = match B::DIALECT {
        Dialect::Sqlite => "0",
        Dialect::Postgres => "'epoch'::timestamptz",
    };
    let sort = format!("COALESCE({}, {epoch})", column(q.sort));
    let mut sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts WHERE connection_id = $1 AND deleted_at IS NULL"
    );
    let mut binds: Vec<crate::Arg> = vec![connection.as_uuid().into()];
    let next = |binds: &mut Vec<crate::Arg>, arg: crate::Arg| {
        binds.push(arg);
        binds.len()
    };
    for f in &q.filters {
        let op = match f.op {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "=",
        };
        // Filters compare the raw column, so null values never match.
        match instant(f.value.timestamp_micros()) {
            Instant::At(t) => {
                let n = next(&mut binds, t.into());
                sql.push_str(&format!(" AND {} {op} ${n}", column(f.field)));
            }
            Instant::BeforeAll if matches!(f.op, CompareOp::Gt | CompareOp::Ge) => {
                sql.push_str(&format!(" AND {} IS NOT NULL", column(f.field)));
            }
            Instant::AfterAll if matches!(f.op, CompareOp::Lt | CompareOp::Le) => {
                sql.push_str(&format!(" AND {} IS NOT NULL", column(f.field)));
            }
            Instant::BeforeAll | Instant::AfterAll => return Ok(Page::empty()),
        }
    }
    let (cmp, dir) = match q.direction {
        SortDirection::Asc => (">", "ASC"),
        SortDirection::Desc => ("<", "DESC"),
    };
    if let Some(after) = q.after {
        match (instant(after.at_micros), q.direction) {
            (Instant::At(t), _) => {
                let at = next(&mut binds, t.into());
                let id = next(&mut binds, after.id.as_uuid().into());
                sql.push_str(&format!(
                    " AND ({sort} {cmp} ${at} OR ({sort} = ${at} AND id {cmp} ${id}))"
                ));
            }
            // Every row comes after the cursor.
            (Instant::BeforeAll, SortDirection::Asc) | (Instant::AfterAll, SortDirection::Desc) => {
            }
            // No row does.
            (Instant::BeforeAll, SortDirection::Desc) | (Instant::AfterAll, SortDirection::Asc) => {
                return Ok(Page::empty());
            }
        }
    }
    let limit = next(&mut binds, (i64::from(q.limit) + 1).into());
    sql.push_str(&format!(" ORDER BY {sort} {dir}, id {dir} LIMIT ${limit}"));
    let mut query = Sql::new(sql);
    for arg in binds {
        query.push(arg);
    }
    db.reader().page::<AccountRow, _>(query, q.limit).await
}
