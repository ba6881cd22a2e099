//! The shapes every query here ends in, written once: run it, map sqlx's error, and turn the
//! rows into domain values with their `TryFrom` conversion.

use bankfeeds_store::{StoreError, StoreResult};
use sqlx::query::{Query, QueryAs};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::IntoArguments;
use sqlx::{Executor, FromRow, Sqlite};

use crate::map_err;

/// At most one row, as a domain value.
pub(crate) async fn optional<'q, 'c, R, T, A, E>(
    query: QueryAs<'q, Sqlite, R, A>,
    ex: E,
) -> StoreResult<Option<T>>
where
    R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'q,
    T: TryFrom<R, Error = StoreError>,
    A: IntoArguments<'q, Sqlite> + 'q,
    E: Executor<'c, Database = Sqlite> + 'q,
    'c: 'q,
{
    let row = query.fetch_optional(ex).await.map_err(map_err)?;
    row.map(T::try_from).transpose()
}

/// Every row, as domain values.
pub(crate) async fn all<'q, 'c, R, T, A, E>(
    query: QueryAs<'q, Sqlite, R, A>,
    ex: E,
) -> StoreResult<Vec<T>>
where
    R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'q,
    T: TryFrom<R, Error = StoreError>,
    A: IntoArguments<'q, Sqlite> + 'q,
    E: Executor<'c, Database = Sqlite> + 'q,
    'c: 'q,
{
    let rows = query.fetch_all(ex).await.map_err(map_err)?;
    rows.into_iter().map(T::try_from).collect()
}

/// Runs a write and says how many rows it changed.
pub(crate) async fn execute<'q, 'c, E>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    ex: E,
) -> StoreResult<u64>
where
    E: Executor<'c, Database = Sqlite> + 'q,
    'c: 'q,
{
    let done = query.execute(ex).await.map_err(map_err)?;
    Ok(done.rows_affected())
}
