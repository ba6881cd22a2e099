//! `LiveStore`: a connection's tenant and sealed tokens (replaced by compare-and-set on
//! `token_version`), each live feed's state, and the statement queue (`cut.rs` fills it,
//! `statements.rs` drains it).

mod consent;
mod cut;
pub(crate) mod deletions;
mod limits;
mod statements;

use bankfeeds_domain::live::consent::{ConsentRefusal, ConsentTenant, LiveConsent};
use bankfeeds_domain::live::LiveFeedState;
use bankfeeds_domain::live::{LiveDeletionId, RestartRefusal};
use bankfeeds_domain::SecretHash;
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, Timestamp};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{
    DeletionUpdate, EventKind, LiveDeletion, LiveFeed, LiveStatement, LiveStore, LiveTenant,
    NewEvent, StatementRender, StatementUpdate, StoreError, StoreResult,
};

use crate::{events, Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct TenantRow {
    connection_id: DbId,
    org_id: DbId,
    platform: String,
    tenant_id: String,
    tokens_sealed: String,
    access_expires_at: DbTime,
    token_version: DbInt,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<TenantRow> for LiveTenant {
    type Error = StoreError;

    fn try_from(r: TenantRow) -> StoreResult<Self> {
        Ok(LiveTenant {
            connection_id: r.connection_id.0.into(),
            org_id: r.org_id.0.into(),
            platform: parse(&r.platform, "live_tenants.platform")?,
            tenant_id: r.tenant_id,
            tokens_sealed: r.tokens_sealed,
            access_expires_at: r.access_expires_at.0,
            token_version: r.token_version.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const TENANT_COLUMNS: &str = "connection_id, org_id, platform, tenant_id, tokens_sealed,
    access_expires_at, token_version, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct FeedRow {
    account_id: DbId,
    org_id: DbId,
    connection_id: DbId,
    feed_connection_id: Option<String>,
    state: String,
    error_code: Option<String>,
    error_detail: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<FeedRow> for LiveFeed {
    type Error = StoreError;

    fn try_from(r: FeedRow) -> StoreResult<Self> {
        Ok(LiveFeed {
            account_id: r.account_id.0.into(),
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            feed_connection_id: r.feed_connection_id,
            state: known(LiveFeedState::parse(&r.state), "live_feeds.state")?,
            error_code: r.error_code,
            error_detail: r.error_detail,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

pub(crate) const FEED_COLUMNS: &str = "account_id, org_id, connection_id, feed_connection_id,
    state, error_code, error_detail, created_at, updated_at";

/// A `bank_feed_account.live_feed_changed` event for `feed` as it now is.
pub(crate) async fn record_feed_change(
    tx: &mut impl Exec,
    feed: &LiveFeed,
    now: Timestamp,
) -> StoreResult<()> {
    record_feed_event(tx, feed, feed.state.as_str(), now).await
}

pub(super) async fn record_feed_event(
    tx: &mut impl Exec,
    feed: &LiveFeed,
    status: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let event = NewEvent {
        org_id: feed.org_id,
        connection_id: Some(feed.connection_id),
        kind: EventKind::LiveFeedChanged,
        resource_id: feed.account_id.to_string(),
        payload: serde_json::json!({
            "bank_feed_account_id": feed.account_id,
            "connection_id": feed.connection_id,
            "feed_status": status,
            "error_code": feed.error_code,
            "error_detail": feed.error_detail,
        }),
    };
    events::append(tx, &event, now).await
}

/// Sets a feed's state and error inside the caller's transaction, with a `live_feed_changed`
/// event when the state or the error changed; the rows changed.
pub(crate) async fn set_feed_state_in(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    state: LiveFeedState,
    error: Option<(&str, Option<&str>)>,
    now: Timestamp,
) -> StoreResult<u64> {
    let before: Option<LiveFeed> = tx
        .optional::<FeedRow, _>(
            Sql::new(format!(
                "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id = $1"
            ))
            .bind(account.as_uuid()),
        )
        .await?;
    let Some(before) = before else {
        return Ok(0);
    };
    let after: LiveFeed = tx
        .one::<FeedRow, _>(
            Sql::new(format!(
                "UPDATE live_feeds SET state = $2, error_code = $3, error_detail = $4,
                     updated_at = $5
                 WHERE account_id = $1 RETURNING {FEED_COLUMNS}"
            ))
            .bind(account.as_uuid())
            .bind(state.as_str())
            .bind(error.map(|(code, _)| code))
            .bind(error.and_then(|(_, detail)| detail))
            .bind(now),
        )
        .await?;
    if (before.state, &before.error_code, &before.error_detail)
        != (after.state, &after.error_code, &after.error_detail)
    {
        record_feed_change(tx, &after, now).await?;
    }
    Ok(1)
}

#[async_trait::async_trait]
impl<B: Backend> LiveStore for SqlStore<B> {
    async fn put_live_tenant(&self, t: &LiveTenant) -> StoreResult<LiveTenant> {
        let mut tx = self.0.write().await?;
        let saved = tx
            .one::<TenantRow, _>(
                Sql::new(format!(
                    "INSERT INTO live_tenants ({TENANT_COLUMNS}, state)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active')
                     ON CONFLICT (connection_id) DO UPDATE SET
                         tenant_id = excluded.tenant_id, tokens_sealed = excluded.tokens_sealed,
                         access_expires_at = excluded.access_expires_at,
                         token_version = excluded.token_version, updated_at = excluded.updated_at
                     RETURNING {TENANT_COLUMNS}"
                ))
                .bind(t.connection_id.as_uuid())
                .bind(t.org_id.as_uuid())
                .bind(t.platform.as_str())
                .bind(t.tenant_id.as_str())
                .bind(t.tokens_sealed.as_str())
                .bind(t.access_expires_at)
                .bind(t.token_version)
                .bind(t.created_at)
                .bind(t.updated_at),
            )
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn get_live_tenant(&self, connection: ConnectionId) -> StoreResult<Option<LiveTenant>> {
        self.0
            .reader()
            .optional::<TenantRow, _>(
                Sql::new(format!(
                    "SELECT {TENANT_COLUMNS} FROM live_tenants WHERE connection_id = $1"
                ))
                .bind(connection.as_uuid()),
            )
            .await
    }

    async fn replace_live_tokens(
        &self,
        connection: ConnectionId,
        expected: i64,
        tokens_sealed: &str,
        access_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let changed = self
            .0
            .write_one(
                Sql::new(
                    "UPDATE live_tenants SET tokens_sealed = $3, access_expires_at = $4,
                         token_version = token_version + 1, updated_at = $5
                     WHERE connection_id = $1 AND token_version = $2",
                )
                .bind(connection.as_uuid())
                .bind(expected)
                .bind(tokens_sealed)
                .bind(access_expires_at)
                .bind(now),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn put_live_feed(&self, f: &LiveFeed) -> StoreResult<LiveFeed> {
        let mut tx = self.0.write().await?;
        let saved = tx
            .one::<FeedRow, _>(
                Sql::new(format!(
                    "INSERT INTO live_feeds ({FEED_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (account_id) DO UPDATE SET
                         connection_id = excluded.connection_id,
                         feed_connection_id = excluded.feed_connection_id,
                         state = excluded.state, error_code = excluded.error_code,
                         error_detail = excluded.error_detail, updated_at = excluded.updated_at
                     RETURNING {FEED_COLUMNS}"
                ))
                .bind(f.account_id.as_uuid())
                .bind(f.org_id.as_uuid())
                .bind(f.connection_id.as_uuid())
                .bind(f.feed_connection_id.as_deref())
                .bind(f.state.as_str())
                .bind(f.error_code.as_deref())
                .bind(f.error_detail.as_deref())
                .bind(f.created_at)
                .bind(f.updated_at),
            )
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn get_live_feed(&self, account: BankFeedAccountId) -> StoreResult<Option<LiveFeed>> {
        self.0
            .reader()
            .optional::<FeedRow, _>(
                Sql::new(format!(
                    "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id = $1"
                ))
                .bind(account.as_uuid()),
            )
            .await
    }

    async fn live_feeds_of(&self, accounts: &[BankFeedAccountId]) -> StoreResult<Vec<LiveFeed>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!(
            "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id IN ({})",
            crate::exec::placeholders(1, accounts.len())
        ));
        for a in accounts {
            q.push(a.as_uuid());
        }
        self.0.reader().all::<FeedRow, _>(q).await
    }

    async fn set_live_feed_state(
        &self,
        account: BankFeedAccountId,
        state: LiveFeedState,
        error: Option<(&str, Option<&str>)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        if set_feed_state_in(&mut tx, account, state, error, now).await? == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await
    }

    async fn live_feeds_in_state(
        &self,
        state: LiveFeedState,
        limit: u32,
    ) -> StoreResult<Vec<LiveFeed>> {
        self.0
            .reader()
            .all::<FeedRow, _>(
                Sql::new(format!(
                    "SELECT {FEED_COLUMNS} FROM live_feeds WHERE state = $1
                     ORDER BY created_at, account_id LIMIT $2"
                ))
                .bind(state.as_str())
                .bind(limit),
            )
            .await
    }

    async fn cut_live_statements(
        &self,
        account: BankFeedAccountId,
        max_transactions: u32,
        render: StatementRender<'_>,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveStatement>> {
        cut::cut(&self.0, account, max_transactions, render, now).await
    }

    async fn claim_live_statements(
        &self,
        holder: &str,
        lease_until: Timestamp,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveStatement>> {
        statements::claim(&self.0, holder, lease_until, limit, now).await
    }

    async fn record_live_statement(
        &self,
        id: bankfeeds_domain::live::LiveStatementId,
        holder: &str,
        update: &StatementUpdate,
        now: Timestamp,
    ) -> StoreResult<bool> {
        statements::record(&self.0, id, holder, update, now).await
    }

    async fn list_live_statements(
        &self,
        account: BankFeedAccountId,
    ) -> StoreResult<Vec<LiveStatement>> {
        statements::list(&self.0, account).await
    }

    async fn create_live_consent(&self, consent: &LiveConsent) -> StoreResult<()> {
        consent::create(&self.0, consent).await
    }

    async fn get_live_consent(&self, state: &SecretHash) -> StoreResult<Option<LiveConsent>> {
        consent::get(&self.0, state).await
    }

    async fn use_live_consent(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        now: Timestamp,
    ) -> StoreResult<Result<LiveConsent, ConsentRefusal>> {
        consent::use_up(&self.0, state, browser, now).await
    }

    async fn grant_live_consent(
        &self,
        state: &SecretHash,
        tokens_sealed: &str,
        tenants: &[ConsentTenant],
    ) -> StoreResult<()> {
        consent::grant(&self.0, state, tokens_sealed, tenants).await
    }

    async fn choose_live_tenant(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        tenant: &str,
        now: Timestamp,
    ) -> StoreResult<Result<LiveConsent, ConsentRefusal>> {
        consent::choose_tenant(&self.0, state, browser, tenant, now).await
    }

    async fn complete_live_consent(
        &self,
        state: &SecretHash,
        browser: Option<&SecretHash>,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        access_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<LiveFeed>, ConsentRefusal>> {
        let c = consent::Choice {
            accounts,
            start,
            access_expires_at,
        };
        consent::complete(&self.0, state, browser, &c, now).await
    }

    async fn set_live_feed_connection(
        &self,
        account: BankFeedAccountId,
        feed_connection_id: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let changed = self
            .0
            .write_one(
                Sql::new(
                    "UPDATE live_feeds SET feed_connection_id = $2, updated_at = $3
                     WHERE account_id = $1",
                )
                .bind(account.as_uuid())
                .bind(feed_connection_id)
                .bind(now),
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn restart_live_feed(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<Result<LiveFeed, RestartRefusal>> {
        statements::restart(&self.0, connection, account, now).await
    }

    async fn claim_live_deletions(
        &self,
        holder: &str,
        lease_until: Timestamp,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<LiveDeletion>> {
        deletions::claim(&self.0, holder, lease_until, limit, now).await
    }

    async fn finish_live_deletion(
        &self,
        id: LiveDeletionId,
        holder: &str,
        update: &DeletionUpdate,
        now: Timestamp,
    ) -> StoreResult<bool> {
        deletions::finish(&self.0, id, holder, update, now).await
    }

    async fn list_live_deletions(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Vec<(BankFeedAccountId, Option<String>)>> {
        deletions::list(&self.0, connection).await
    }

    async fn release_live_leases(&self, holder: &str) -> StoreResult<u64> {
        let mut tx = self.0.write().await?;
        let mut freed = 0;
        for table in ["live_statements", "live_feed_deletions"] {
            freed += tx
                .execute(
                    Sql::new(format!(
                        "UPDATE {table} SET lease_holder = NULL, lease_until = NULL
                         WHERE lease_holder = $1 AND lease_until IS NOT NULL"
                    ))
                    .bind(holder),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(freed)
    }
}
