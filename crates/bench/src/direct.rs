//! Rows written straight into a database with the hub's schema, by the fastest plain means:
//! the ceiling the hub's ingest is compared with, and the preload of the scale measurement.
//!
//! SQLite: one connection (SQLite has one writer anyway) with the hub's settings (WAL,
//! `synchronous` as the hub runs it: FULL unless `BANKFEEDS_SQLITE_SYNCHRONOUS=normal`, foreign
//! keys on), one prepared multi-row INSERT of 1000 rows per
//! transaction. PostgreSQL: `COPY … FROM STDIN` (text format), 1000 rows per transaction, from
//! several connections at once, each with its own accounts, as the hub's clients are.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::DateTime;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};

use crate::data::{self, Kind};
use crate::hub::Backend;

/// The ids every row carries besides its account.
#[derive(Debug, Clone)]
pub struct Owner {
    pub org_id: String,
    pub connection_id: String,
}

const COLUMNS: &str = "id, org_id, connection_id, account_id, transaction_id, posted_at, amount, \
                       description, debit_credit_memo, platform_ingested, job_id, created_at";

/// The `synchronous` setting the hub under test runs with: the environment the bench passes on
/// to it decides both, so the ceiling is always measured like for like.
pub fn sqlite_synchronous() -> &'static str {
    match std::env::var("BANKFEEDS_SQLITE_SYNCHRONOUS") {
        Ok(v) if v.eq_ignore_ascii_case("normal") => "NORMAL",
        _ => "FULL",
    }
}

async fn sqlite(url: &str) -> anyhow::Result<SqliteConnection> {
    let synchronous = match sqlite_synchronous() {
        "NORMAL" => SqliteSynchronous::Normal,
        _ => SqliteSynchronous::Full,
    };
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
        .connect()
        .await?)
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn pg_time(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S+00")
        .to_string()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// Creates an organisation, a connection and `n` accounts with plain SQL in a migrated
/// database nobody else uses (the ceiling's); returns the owner and the account ids.
pub async fn seed(backend: Backend, url: &str, n: usize) -> anyhow::Result<(Owner, Vec<String>)> {
    let owner = Owner {
        org_id: new_id(),
        connection_id: new_id(),
    };
    let accounts: Vec<String> = (0..n).map(|_| new_id()).collect();
    let now = now_micros();
    match backend {
        Backend::Sqlite => {
            let mut c = sqlite(url).await?;
            let mut tx = c.begin().await?;
            sqlx::query("INSERT INTO orgs (id, name, client_id, client_secret_hash, created_at) VALUES (?, 'Ceiling', ?, 'x', ?)")
                .bind(&owner.org_id).bind(&owner.org_id).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO connections (id, org_id, platform, name, access_token_hash, created_at, updated_at) VALUES (?, ?, 'INTUIT_BANK_FEEDS', 'Ceiling', ?, ?, ?)")
                .bind(&owner.connection_id).bind(&owner.org_id).bind(&owner.connection_id).bind(now).bind(now)
                .execute(&mut *tx).await?;
            for (i, id) in accounts.iter().enumerate() {
                sqlx::query("INSERT INTO bank_feed_accounts (id, org_id, connection_id, internal_bank_account_id, bank_account_type, currency_code, feed_status, transaction_ready, details, created_at, updated_at) VALUES (?, ?, ?, ?, 'bank', 'USD', 'inactive', 1, '{}', ?, ?)")
                    .bind(id).bind(&owner.org_id).bind(&owner.connection_id).bind(format!("ceiling-{i}")).bind(now).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            c.close().await?;
        }
        Backend::Postgres => {
            let mut c = PgConnection::connect(url).await?;
            let mut tx = c.begin().await?;
            sqlx::query("INSERT INTO orgs (id, name, client_id, client_secret_hash, created_at) VALUES ($1::uuid, 'Ceiling', $1, 'x', now())")
                .bind(&owner.org_id)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO connections (id, org_id, platform, name, access_token_hash, created_at, updated_at) VALUES ($1::uuid, $2::uuid, 'INTUIT_BANK_FEEDS', 'Ceiling', $1, now(), now())")
                .bind(&owner.connection_id).bind(&owner.org_id)
                .execute(&mut *tx).await?;
            for (i, id) in accounts.iter().enumerate() {
                sqlx::query("INSERT INTO bank_feed_accounts (id, org_id, connection_id, internal_bank_account_id, bank_account_type, currency_code, feed_status, transaction_ready, details, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, 'bank', 'USD', 'inactive', true, '{}', now(), now())")
                    .bind(id).bind(&owner.org_id).bind(&owner.connection_id).bind(format!("ceiling-{i}"))
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            c.close().await?;
        }
    }
    Ok((owner, accounts))
}

/// What to write: `counts[a]` rows of `kind` for account `accounts[a]`.
pub struct Load<'a> {
    pub owner: &'a Owner,
    pub accounts: &'a [String],
    pub counts: &'a [u64],
    pub kind: Kind,
    pub base: i64,
}

/// A [`Load`] that owns its parts, to move into another task or thread.
struct OwnedLoad {
    owner: Owner,
    accounts: Vec<String>,
    counts: Vec<u64>,
    kind: Kind,
    base: i64,
}

impl OwnedLoad {
    fn of(load: &Load<'_>) -> Self {
        OwnedLoad {
            owner: load.owner.clone(),
            accounts: load.accounts.to_vec(),
            counts: load.counts.to_vec(),
            kind: load.kind,
            base: load.base,
        }
    }

    fn as_load(&self) -> Load<'_> {
        Load {
            owner: &self.owner,
            accounts: &self.accounts,
            counts: &self.counts,
            kind: self.kind,
            base: self.base,
        }
    }
}

/// Writes the load; the time the writing took (connections opened beforehand are not counted).
pub async fn insert(
    backend: Backend,
    url: &str,
    load: &Load<'_>,
    connections: usize,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Duration> {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlite(url).await?;
            let took = sqlite_insert(&mut c, load, progress).await?;
            c.close().await?;
            Ok(took)
        }
        Backend::Postgres => {
            let connections = connections.clamp(1, load.accounts.len().max(1));
            let mut conns = Vec::new();
            for _ in 0..connections {
                conns.push(PgConnection::connect(url).await?);
            }
            let started = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for (k, mut c) in conns.into_iter().enumerate() {
                let specs = data::schedule(load.counts, connections, k);
                let owned = OwnedLoad::of(load);
                let progress = progress.clone();
                set.spawn(async move {
                    let load = owned.as_load();
                    for spec in specs {
                        pg_batch(&mut c, &load, spec).await?;
                        progress.inc(spec.len);
                    }
                    c.close().await?;
                    anyhow::Ok(())
                });
            }
            while let Some(r) = set.join_next().await {
                r??;
            }
            Ok(started.elapsed())
        }
    }
}

/// The prepared 1000-row INSERT of one batch, its values bound.
fn sqlite_batch(load: &Load<'_>, spec: data::BatchSpec) -> QueryBuilder<'static, Sqlite> {
    let account = &load.accounts[spec.account];
    let count = load.counts[spec.account];
    let job = new_id();
    let now = now_micros();
    let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO transactions ({COLUMNS}) "));
    q.push_values(spec.start..spec.start + spec.len, |mut b, seq| {
        let r = data::row(load.kind, spec.account, seq, count, load.base);
        b.push_bind(new_id())
            .push_bind(load.owner.org_id.clone())
            .push_bind(load.owner.connection_id.clone())
            .push_bind(account.clone())
            .push_bind(r.transaction_id)
            .push_bind(r.posted_at * 1_000_000)
            .push_bind(r.amount)
            .push_bind(r.description)
            .push_bind(r.debit_credit_memo)
            .push_bind(false)
            .push_bind(job.clone())
            .push_bind(now);
    });
    q
}

/// Writes the batches through one connection, one transaction each. The rows are generated and
/// bound on another thread, ahead of the writer, so the time measured is the database's.
async fn sqlite_insert(
    c: &mut SqliteConnection,
    load: &Load<'_>,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Duration> {
    let specs = data::schedule(load.counts, 1, 0);
    let owned = OwnedLoad::of(load);
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let started = Instant::now();
    let producer = tokio::task::spawn_blocking(move || {
        let load = owned.as_load();
        for spec in specs {
            if tx
                .blocking_send((sqlite_batch(&load, spec), spec.len))
                .is_err()
            {
                return;
            }
        }
    });
    while let Some((mut q, len)) = rx.recv().await {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
        if let Err(e) = q.build().execute(&mut *c).await {
            let _ = sqlx::query("ROLLBACK").execute(&mut *c).await;
            return Err(e).context("ceiling INSERT");
        }
        sqlx::query("COMMIT").execute(&mut *c).await?;
        progress.inc(len);
    }
    let took = started.elapsed();
    producer.await?;
    Ok(took)
}

async fn pg_batch(
    c: &mut PgConnection,
    load: &Load<'_>,
    spec: data::BatchSpec,
) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let account = &load.accounts[spec.account];
    let count = load.counts[spec.account];
    let job = new_id();
    let now = chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f+00")
        .to_string();
    let mut buf = String::with_capacity(spec.len as usize * 220);
    for seq in spec.start..spec.start + spec.len {
        let r = data::row(load.kind, spec.account, seq, count, load.base);
        // Text format: tab-separated; the generated values hold no tab, newline or backslash.
        let _ = writeln!(
            buf,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\tf\t{}\t{}",
            new_id(),
            load.owner.org_id,
            load.owner.connection_id,
            account,
            r.transaction_id,
            pg_time(r.posted_at),
            r.amount,
            r.description,
            r.debit_credit_memo,
            job,
            now
        );
    }
    let mut tx = c.begin().await?;
    let mut copy = tx
        .copy_in_raw(&format!("COPY transactions ({COLUMNS}) FROM STDIN"))
        .await?;
    copy.send(buf.into_bytes()).await?;
    copy.finish().await.context("ceiling COPY")?;
    tx.commit().await?;
    Ok(())
}

/// Sets each preloaded account's `newest_posted_at` to its newest preloaded row, as the hub
/// would have after storing them, so ingest that follows is checked against it.
pub async fn set_newest_posted_at(
    backend: Backend,
    url: &str,
    load: &Load<'_>,
) -> anyhow::Result<()> {
    // The newest preloaded row of every account is posted one second before `base`.
    let newest = load.base - 1;
    match backend {
        Backend::Sqlite => {
            let mut c = sqlite(url).await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await?;
            for (a, id) in load.accounts.iter().enumerate() {
                if load.counts[a] > 0 {
                    sqlx::query("UPDATE bank_feed_accounts SET newest_posted_at = ? WHERE id = ?")
                        .bind(newest * 1_000_000)
                        .bind(id)
                        .execute(&mut c)
                        .await?;
                }
            }
            sqlx::query("COMMIT").execute(&mut c).await?;
            c.close().await?;
        }
        Backend::Postgres => {
            let mut c = PgConnection::connect(url).await?;
            let mut tx = c.begin().await?;
            for (a, id) in load.accounts.iter().enumerate() {
                if load.counts[a] > 0 {
                    sqlx::query("UPDATE bank_feed_accounts SET newest_posted_at = $1::timestamptz WHERE id = $2::uuid")
                        .bind(pg_time(newest))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            // A store that grew to this size over time would have statistics: give it them.
            sqlx::query("ANALYZE").execute(&mut c).await?;
            c.close().await?;
        }
    }
    Ok(())
}

/// How many transactions the database holds.
pub async fn count(backend: Backend, url: &str) -> anyhow::Result<i64> {
    Ok(match backend {
        Backend::Sqlite => {
            let mut c = sqlite(url).await?;
            let n = sqlx::query_scalar("SELECT COUNT(*) FROM transactions")
                .fetch_one(&mut c)
                .await?;
            c.close().await?;
            n
        }
        Backend::Postgres => {
            let mut c = PgConnection::connect(url).await?;
            let n = sqlx::query_scalar("SELECT COUNT(*) FROM transactions")
                .fetch_one(&mut c)
                .await?;
            c.close().await?;
            n
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_timestamps_are_utc() {
        assert_eq!(pg_time(0), "1970-01-01 00:00:00+00");
    }
}
