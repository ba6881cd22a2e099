//! bankfeeds' storage in SQL, written once for both backends.
//!
//! The store traits (`bankfeeds_store`) are implemented here, generically over a [`Backend`]:
//! what a backend must give is a write transaction, a pool to read from and its [`Dialect`]
//! (the few places the two SQL dialects differ: row locks, arrays, JSON). `store-sqlite` and
//! `store-postgres` keep their connection set-up, migrations and what only their engine does,
//! and opt into each aggregate's implementation with one macro line (`orgs::impl_org_store!`):
//! the orphan rule forbids implementing `bankfeeds_store`'s traits for their types here.
//!
//! Each method **loads** the facts a rule needs (under the locks it needs), asks the domain to
//! **decide**, and **writes** what the decision says. No rule lives here either.

pub mod error;
pub mod exec;
pub mod orgs;
pub mod value;

use std::future::Future;

use bankfeeds_store::StoreResult;

pub use error::map_err;
pub use exec::{Exec, Sql, SqlRow, Tx};
pub use value::{Arg, DbAmount, DbId, DbInt, DbTime};

/// Where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The row lock a read-then-write takes: PostgreSQL locks the rows it read; SQLite's one
    /// writer (`BEGIN IMMEDIATE`) already excludes every other writer.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// What a database engine gives the shared SQL.
pub trait Backend: Send + Sync + 'static {
    const DIALECT: Dialect;
    type Tx: Tx;
    type Reader: Exec;

    /// Begins a write transaction (on SQLite, the one writer, taken up front).
    fn write(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;

    /// Where reads run outside a transaction.
    fn reader(&self) -> Self::Reader;
}

/// For the macros: paths that resolve in the backend crates that expand them.
#[doc(hidden)]
pub mod reexport {
    pub use async_trait::async_trait;
    pub use bankfeeds_domain as domain;
    pub use bankfeeds_store as store;
}
