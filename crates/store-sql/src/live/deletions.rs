//! The outbox of feed connections to delete at the platform: queued in the transaction that
//! deletes or unlinks the accounts (their live feeds go with it), claimed under a lease as the
//! statements are, finished with what the platform said.

use bankfeeds_domain::live::LiveDeletionId;
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, Timestamp};
use bankfeeds_store::{DeletionUpdate, LiveDeletion, LiveFeed, StoreError, StoreResult};

use super::{record_feed_event, FeedRow, FEED_COLUMNS};
use crate::{Backend, DbId, DbInt, DbTime, Exec, Sql, Tx};

/// Whose live feeds go.
pub enum Scope {
    Connection(ConnectionId),
    Account(BankFeedAccountId),
}

/// Inside the caller's transaction: removes the live feeds of `scope` and queues a deletion
/// at the platform for each (with a `live_feed_changed` event saying it is removed); the
/// statements still queued untried for those feed connections are withdrawn.
pub async fn queue_in<B: Backend>(
    tx: &mut impl Exec,
    scope: Scope,
    now: Timestamp,
) -> StoreResult<()> {
    let (column, id) = match scope {
        Scope::Connection(c) => ("connection_id", c.as_uuid()),
        Scope::Account(a) => ("account_id", a.as_uuid()),
    };
    let gone: Vec<LiveFeed> = tx
        .all::<FeedRow, _>(
            Sql::new(format!(
                "DELETE FROM live_feeds WHERE {column} = $1 RETURNING {FEED_COLUMNS}"
            ))
            .bind(id),
        )
        .await?;
    for feed in &gone {
        insert_in(tx, feed, None, now).await?;
        record_feed_removed(tx, feed, now).await?;
        super::statements::withdraw_untried_in::<B>(tx, feed.account_id, now).await?;
    }
    Ok(())
}

/// A `bank_feed_account.live_feed_changed` event for `feed` removed (its account deleted or
/// unlinked; the platform is asked to delete its feed connection).
async fn record_feed_removed(
    tx: &mut impl Exec,
    feed: &LiveFeed,
    now: Timestamp,
) -> StoreResult<()> {
    let removed = LiveFeed {
        error_code: None,
        error_detail: None,
        ..feed.clone()
    };
    record_feed_event(tx, &removed, "removed", now).await
}

/// Inside the caller's transaction: queues the deletion of `feed`'s feed connection in
/// platform organisation `tenant`, or, when `None`, in the connection's tenant of now.
pub async fn insert_in(
    tx: &mut impl Exec,
    feed: &LiveFeed,
    tenant: Option<&str>,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO live_feed_deletions (id, org_id, connection_id, account_id, tenant_id,
                 attempts, due_at, created_at)
             VALUES ($1, $2, $3, $4,
                 COALESCE($6, (SELECT tenant_id FROM live_tenants WHERE connection_id = $3)),
                 0, $5, $5)",
        )
        .bind(LiveDeletionId::new().as_uuid())
        .bind(feed.org_id.as_uuid())
        .bind(feed.connection_id.as_uuid())
        .bind(feed.account_id.as_uuid())
        .bind(now)
        .bind(tenant),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeletionRow {
    id: DbId,
    org_id: DbId,
    connection_id: DbId,
    account_id: DbId,
    tenant_id: Option<String>,
    attempts: DbInt,
    due_at: DbTime,
}

impl TryFrom<DeletionRow> for LiveDeletion {
    type Error = StoreError;

    fn try_from(r: DeletionRow) -> StoreResult<Self> {
        Ok(LiveDeletion {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            account_id: r.account_id.0.into(),
            tenant_id: r.tenant_id,
            attempts: r.attempts.0,
            due_at: r.due_at.0,
        })
    }
}

const COLUMNS: &str = "id, org_id, connection_id, account_id, tenant_id, attempts, due_at";

pub async fn claim<B: Backend>(
    db: &B,
    holder: &str,
    lease_until: Timestamp,
    limit: u32,
    now: Timestamp,
) -> StoreResult<Vec<LiveDeletion>> {
    let sql = format!(
        "UPDATE live_feed_deletions SET lease_holder = $2, lease_until = $3,
             attempts = attempts + 1
         WHERE id IN (
             SELECT d.id FROM live_feed_deletions d
             WHERE d.done_at IS NULL AND d.due_at <= $1
               AND (d.lease_until IS NULL OR d.lease_until < $1)
             ORDER BY d.due_at LIMIT $4{})
           AND done_at IS NULL AND (lease_until IS NULL OR lease_until < $1)
         RETURNING {COLUMNS}",
        B::DIALECT.skip_locked(Some("d"))
    );
    let mut tx = db.write().await?;
    let mut claimed: Vec<LiveDeletion> = tx
        .all::<DeletionRow, _>(
            Sql::new(sql)
                .bind(now)
                .bind(holder)
                .bind(lease_until)
                .bind(limit),
        )
        .await?;
    tx.commit().await?;
    claimed.sort_by_key(|d| d.due_at);
    Ok(claimed)
}

pub async fn finish<B: Backend>(
    db: &B,
    id: LiveDeletionId,
    holder: &str,
    update: &DeletionUpdate,
    now: Timestamp,
) -> StoreResult<bool> {
    let (done, outcome, due) = match update {
        DeletionUpdate::Done(outcome) => (Some(now), Some(outcome.as_str()), None),
        DeletionUpdate::RetryAt(at) => (None, None, Some(*at)),
    };
    let changed = db
        .write_one(
            Sql::new(
                "UPDATE live_feed_deletions SET done_at = $3, outcome = $4,
                     due_at = COALESCE($5, due_at), lease_holder = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_holder = $2 AND done_at IS NULL",
            )
            .bind(id.as_uuid())
            .bind(holder)
            .bind(done)
            .bind(outcome)
            .bind(due),
        )
        .await?;
    Ok(changed == 1)
}

#[derive(sqlx::FromRow)]
struct Listed {
    account_id: DbId,
    outcome: Option<String>,
}

pub async fn list<B: Backend>(
    db: &B,
    connection: ConnectionId,
) -> StoreResult<Vec<(BankFeedAccountId, Option<String>)>> {
    let rows: Vec<Listed> = db
        .reader()
        .fetch_all(
            Sql::new(
                "SELECT account_id, outcome FROM live_feed_deletions WHERE connection_id = $1
                 ORDER BY created_at, id",
            )
            .bind(connection.as_uuid()),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id.0.into(), r.outcome))
        .collect())
}
