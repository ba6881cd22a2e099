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

pub mod accounts;
pub mod connections;
pub mod credentials;
pub mod customers;
pub mod error;
pub mod events;
pub mod exec;
pub mod fi_configs;
pub mod idempotency;
pub mod jobs;
pub mod link;
pub mod ofx;
pub mod orgs;
pub mod otps;
pub mod platform_feeds;
pub mod retention;
pub mod transactions;
pub mod value;

use std::future::Future;

use bankfeeds_store::StoreResult;

pub use error::map_err;
pub use exec::{Exec, Sql, SqlRow, Tx};
pub use value::{Arg, DbAmount, DbBytes, DbId, DbInt, DbTime};

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

    /// A shared row lock: the row cannot change or go until the transaction ends, while other
    /// readers still read it.
    pub fn for_share(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR SHARE",
        }
    }

    /// `for_update` of one table of a join (named by its alias).
    pub fn for_update_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// What a bounded cleanup's `SELECT … LIMIT n` adds so several hub instances can purge at
    /// once: on PostgreSQL rows another instance has locked are skipped (`of` names the table
    /// alias to lock, if the select joins); SQLite has one writer anyway.
    pub fn skip_locked(self, of: Option<&str>) -> String {
        match (self, of) {
            (Dialect::Sqlite, _) => String::new(),
            (Dialect::Postgres, None) => " FOR UPDATE SKIP LOCKED".into(),
            (Dialect::Postgres, Some(alias)) => format!(" FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }

    /// Orders text by its bytes, as SQLite always does, whatever PostgreSQL's default
    /// collation is (so both backends list in one order).
    pub fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
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

    /// Runs one write statement in a transaction of its own; says how many rows it changed.
    fn write_one(&self, q: Sql) -> impl Future<Output = StoreResult<u64>> + Send {
        async move {
            let mut tx = self.write().await?;
            let changed = tx.execute(q).await?;
            tx.commit().await?;
            Ok(changed)
        }
    }
}

/// For the macros: paths that resolve in the backend crates that expand them.
#[doc(hidden)]
pub mod reexport {
    pub use async_trait::async_trait;
    pub use bankfeeds_domain as domain;
    pub use bankfeeds_store as store;
    pub use serde_json;
}
