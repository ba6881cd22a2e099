//! Running a query on either backend: a statement with its parameters ([`Sql`]), the places it
//! can run ([`Exec`]: a pool, a connection, a transaction) and the rows it reads ([`SqlRow`]).

use std::borrow::Cow;
use std::future::Future;

use bankfeeds_domain::Page;
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use crate::error::map_err;
use crate::value::Arg;

/// A statement and its parameters. Placeholders are `$1`, `$2`, … on both backends (SQLite
/// reads `$N` as the N-th parameter).
#[derive(Debug, Clone)]
pub struct Sql {
    text: Cow<'static, str>,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<Cow<'static, str>>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next parameter.
    #[must_use]
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds the next parameter in place (for statements built in a loop).
    pub fn push(&mut self, value: impl Into<Arg>) {
        self.args.push(value.into());
    }
}

/// A row type both backends decode: a `#[derive(sqlx::FromRow)]` struct whose columns are
/// `value`'s column types, `String`, `bool` and their `Option`s.
pub trait SqlRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> SqlRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// Somewhere a statement runs: a pool (each statement on its own), a connection or an open
/// transaction.
pub trait Exec: Send {
    /// Runs a write and says how many rows it changed.
    fn execute(&mut self, q: Sql) -> impl Future<Output = StoreResult<u64>> + Send;

    fn fetch_all<R: SqlRow>(&mut self, q: Sql) -> impl Future<Output = StoreResult<Vec<R>>> + Send;

    fn fetch_optional<R: SqlRow>(
        &mut self,
        q: Sql,
    ) -> impl Future<Output = StoreResult<Option<R>>> + Send;

    /// Exactly one row (`NotFound` when there is none).
    fn fetch_one<R: SqlRow>(&mut self, q: Sql) -> impl Future<Output = StoreResult<R>> + Send {
        async move { self.fetch_optional(q).await?.ok_or(StoreError::NotFound) }
    }

    /// Runs a write that must change a row: `NotFound` when it changed none.
    fn execute_found(&mut self, q: Sql) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            match self.execute(q).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        }
    }

    /// At most one row, as a domain value.
    fn optional<R, T>(&mut self, q: Sql) -> impl Future<Output = StoreResult<Option<T>>> + Send
    where
        R: SqlRow + TryInto<T, Error = StoreError>,
    {
        async move {
            self.fetch_optional::<R>(q)
                .await?
                .map(R::try_into)
                .transpose()
        }
    }

    /// Exactly one row, as a domain value.
    fn one<R, T>(&mut self, q: Sql) -> impl Future<Output = StoreResult<T>> + Send
    where
        R: SqlRow + TryInto<T, Error = StoreError>,
    {
        async move { self.fetch_one::<R>(q).await?.try_into() }
    }

    /// Every row, as domain values.
    fn all<R, T>(&mut self, q: Sql) -> impl Future<Output = StoreResult<Vec<T>>> + Send
    where
        R: SqlRow + TryInto<T, Error = StoreError>,
        T: Send,
    {
        async move {
            let rows = self.fetch_all::<R>(q).await?;
            rows.into_iter().map(R::try_into).collect()
        }
    }

    /// A page of a list whose query reads `limit + 1` rows (see `Page::from_overfetch`).
    fn page<R, T>(
        &mut self,
        q: Sql,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Page<T>>> + Send
    where
        R: SqlRow + TryInto<T, Error = StoreError>,
        T: Send,
    {
        async move { Ok(Page::from_overfetch(self.all::<R, T>(q).await?, limit)) }
    }
}

/// An open write transaction.
pub trait Tx: Exec {
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Ends the transaction now, changing nothing (and releasing its row locks at once rather
    /// than when the pool next uses the connection).
    fn rollback(self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// `Exec` for one driver's pool, connection and transaction: `$ex` turns `self` into the
/// executor sqlx runs the query on; `[...]` holds the impl's lifetime, if any (a transaction
/// borrowed from a connection as well as one that owns its pooled connection).
macro_rules! exec_on {
    ($db:ty: $([$($lt:lifetime)?] $target:ty => |$s:ident| $ex:expr),+ $(,)?) => {$(
        impl<$($lt)?> Exec for $target {
            async fn execute(&mut self, q: Sql) -> StoreResult<u64> {
                let $s = self;
                let mut query = sqlx::query::<$db>(&q.text);
                for arg in q.args {
                    query = query.bind(arg);
                }
                Ok(query.execute($ex).await.map_err(map_err)?.rows_affected())
            }

            async fn fetch_all<R: SqlRow>(&mut self, q: Sql) -> StoreResult<Vec<R>> {
                let $s = self;
                let mut query = sqlx::query_as::<$db, R>(&q.text);
                for arg in q.args {
                    query = query.bind(arg);
                }
                query.fetch_all($ex).await.map_err(map_err)
            }

            async fn fetch_optional<R: SqlRow>(&mut self, q: Sql) -> StoreResult<Option<R>> {
                let $s = self;
                let mut query = sqlx::query_as::<$db, R>(&q.text);
                for arg in q.args {
                    query = query.bind(arg);
                }
                query.fetch_optional($ex).await.map_err(map_err)
            }
        }
    )+};
}

exec_on! { sqlx::Sqlite:
    [] sqlx::SqlitePool => |s| &*s,
    [] sqlx::SqliteConnection => |s| &mut *s,
    [] sqlx::pool::PoolConnection<sqlx::Sqlite> => |s| &mut **s,
    ['c] sqlx::Transaction<'c, sqlx::Sqlite> => |s| &mut **s,
}

exec_on! { sqlx::Postgres:
    [] sqlx::PgPool => |s| &*s,
    [] sqlx::PgConnection => |s| &mut *s,
    [] sqlx::pool::PoolConnection<sqlx::Postgres> => |s| &mut **s,
    ['c] sqlx::Transaction<'c, sqlx::Postgres> => |s| &mut **s,
}

macro_rules! tx_for {
    ($($db:ty),+) => {$(
        impl Tx for sqlx::Transaction<'static, $db> {
            async fn commit(self) -> StoreResult<()> {
                sqlx::Transaction::commit(self).await.map_err(map_err)
            }

            async fn rollback(self) -> StoreResult<()> {
                sqlx::Transaction::rollback(self).await.map_err(map_err)
            }
        }
    )+};
}

tx_for!(sqlx::Sqlite, sqlx::Postgres);

/// `$start, $start+1, …` for `n` parameters: the inside of an `IN (…)` list.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
