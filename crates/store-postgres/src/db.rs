//! The shapes every query here ends in, written once: run it, map sqlx's error, and turn the
//! rows into domain values with their `TryFrom` conversion.

use bankfeeds_store::{StoreError, StoreResult};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Executor, FromRow, Postgres};

use crate::map_err;

/// A query whose rows read as `R`.
type Select<'q, R> = QueryAs<'q, Postgres, R, PgArguments>;

/// At most one row, as a domain value.
pub(crate) async fn optional<'q, 'c, R, T, E>(query: Select<'q, R>, ex: E) -> StoreResult<Option<T>>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'q,
    T: TryFrom<R, Error = StoreError>,
    E: Executor<'c, Database = Postgres> + 'q,
    'c: 'q,
{
    let row = query.fetch_optional(ex).await.map_err(map_err)?;
    row.map(T::try_from).transpose()
}

/// Exactly one row, as a domain value (`NotFound` when there is none).
pub(crate) async fn one<'q, 'c, R, T, E>(query: Select<'q, R>, ex: E) -> StoreResult<T>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'q,
    T: TryFrom<R, Error = StoreError>,
    E: Executor<'c, Database = Postgres> + 'q,
    'c: 'q,
{
    T::try_from(query.fetch_one(ex).await.map_err(map_err)?)
}

/// Every row, as domain values.
pub(crate) async fn all<'q, 'c, R, T, E>(query: Select<'q, R>, ex: E) -> StoreResult<Vec<T>>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'q,
    T: TryFrom<R, Error = StoreError>,
    E: Executor<'c, Database = Postgres> + 'q,
    'c: 'q,
{
    let rows = query.fetch_all(ex).await.map_err(map_err)?;
    rows.into_iter().map(T::try_from).collect()
}

/// Runs a write and says how many rows it changed.
pub(crate) async fn execute<'q, 'c, E>(
    query: Query<'q, Postgres, PgArguments>,
    ex: E,
) -> StoreResult<u64>
where
    E: Executor<'c, Database = Postgres> + 'q,
    'c: 'q,
{
    let done = query.execute(ex).await.map_err(map_err)?;
    Ok(done.rows_affected())
}
