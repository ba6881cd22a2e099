//! Bank feed accounts.
//!
//! Writers read the row they change locked (`for_update`), so concurrent writes to one account
//! (from this or another hub instance on PostgreSQL) take turns, as they do on SQLite's single
//! writer. The rules (create, override, patch) are the domain's (`domain::account`).

mod list;
mod rows;

use bankfeeds_domain::account::{
    decide_create, decide_patch, AccountPatch, AccountQuery, FeedState, FeedStatus,
};
use bankfeeds_domain::console::FeedCounts;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, OrgId, Page, Timestamp};
use bankfeeds_store::{AccountStore, EventKind, Idem, NewEvent, Outcome, StoreError, StoreResult};

pub use list::{instant, Instant};
pub use rows::{all_live_locked, find_live, save, AccountRow, JoinedAccountRow, Key, COLUMNS};

use crate::{events, idempotency, Backend, Dialect, Exec, Sql, SqlStore, Tx};

/// Whether `parent` (if any) is a live account of the connection.
async fn parent_is_live<B: Backend>(
    tx: &mut impl Exec,
    connection: ConnectionId,
    parent: Option<BankFeedAccountId>,
) -> StoreResult<bool> {
    match parent {
        None => Ok(true),
        Some(p) => Ok(find_live::<B>(tx, connection, Key::Id(p), false)
            .await?
            .is_some()),
    }
}

async fn record(
    tx: &mut impl Exec,
    a: &BankFeedAccount,
    kind: EventKind,
    now: Timestamp,
) -> StoreResult<()> {
    events::append(tx, &NewEvent::account(kind, a), now).await
}

#[derive(sqlx::FromRow)]
struct Newest {
    newest_posted_at: Option<crate::DbTime>,
}

async fn has_transactions(tx: &mut impl Exec, id: BankFeedAccountId) -> StoreResult<bool> {
    let newest: Option<Newest> = tx
        .fetch_optional(
            Sql::new("SELECT newest_posted_at FROM bank_feed_accounts WHERE id = $1")
                .bind(id.as_uuid()),
        )
        .await?;
    Ok(newest.and_then(|n| n.newest_posted_at).is_some())
}

/// Deletes every live account of a connection inside the caller's transaction (the connection
/// is being deleted), each with its event: their feeds are disconnected in every platform
/// company (no longer synced; what the platforms ingested stays, `platform_feeds.rs`).
pub async fn delete_all_of_connection(
    tx: &mut impl Exec,
    connection: ConnectionId,
    now: Timestamp,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE bank_feed_accounts SET deleted_at = $2, updated_at = $2
         WHERE connection_id = $1 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    );
    let mut accounts: Vec<BankFeedAccount> = tx
        .all::<AccountRow, _>(Sql::new(sql).bind(connection.as_uuid()).bind(now))
        .await?;
    // RETURNING gives no order; the events follow the accounts' ids.
    accounts.sort_by_key(|a| a.id);
    for account in &accounts {
        record(tx, account, EventKind::AccountDeleted, now).await?;
    }
    Ok(())
}

/// Sets the platform-side feed state inside the caller's transaction, locking the account's row
/// until that transaction ends. `NotFound` when there is no live account with this id.
pub async fn set_feed_state_in<B: Backend>(
    tx: &mut impl Exec,
    id: BankFeedAccountId,
    state: &FeedState,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    set_feed_state_by::<B>(tx, id, state, now, None).await
}

/// [`set_feed_state_in`], its events naming the console operator `by` who asked (`None`: the
/// API, the platform or the link flow).
async fn set_feed_state_by<B: Backend>(
    tx: &mut impl Exec,
    id: BankFeedAccountId,
    state: &FeedState,
    now: Timestamp,
    by: Option<OperatorId>,
) -> StoreResult<BankFeedAccount> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts WHERE id = $1 AND deleted_at IS NULL{}",
        B::DIALECT.for_update()
    );
    let mut account: BankFeedAccount = tx
        .one::<AccountRow, _>(Sql::new(sql).bind(id.as_uuid()))
        .await?;
    let before = account.feed_status;
    account.feed_status = state.feed_status;
    account.transaction_ready = state.transaction_ready;
    account.transaction_start_date = state.transaction_start_date;
    account.updated_at = now;
    save(tx, &account).await?;
    let event = |kind| NewEvent::account(kind, &account).by_operator(by);
    events::append(tx, &event(EventKind::AccountFeedChanged), now).await?;
    if let Some(kind) = EventKind::feed_transition(before, account.feed_status) {
        events::append(tx, &event(kind), now).await?;
    }
    Ok(account)
}

/// Records what the platform holds about the account's feed (`platform_data`), inside the
/// caller's transaction.
pub async fn set_platform_data(
    tx: &mut impl Exec,
    id: BankFeedAccountId,
    data: &serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        Sql::new("UPDATE bank_feed_accounts SET platform_data = $1 WHERE id = $2")
            .bind(data.to_string())
            .bind(id.as_uuid()),
    )
    .await?;
    Ok(())
}

/// Takes a live account's feed off every platform company, inside the caller's transaction: its
/// unlinked feed state (with the event), and the end of each company's link.
pub async fn unlink_everywhere<B: Backend>(
    tx: &mut impl Exec,
    current: &BankFeedAccount,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    unlink_everywhere_by::<B>(tx, current, now, None).await
}

/// [`unlink_everywhere`], its events naming the console operator `by` who asked.
async fn unlink_everywhere_by<B: Backend>(
    tx: &mut impl Exec,
    current: &BankFeedAccount,
    now: Timestamp,
    by: Option<OperatorId>,
) -> StoreResult<BankFeedAccount> {
    let platform = crate::connections::platform_of(tx, current.connection_id).await?;
    let state = bankfeeds_domain::link::unlinked_feed_state(current, platform);
    let account = set_feed_state_by::<B>(tx, current.id, &state, now, by).await?;
    tx.execute(
        Sql::new(
            "UPDATE company_feeds SET unlinked_at = $1
             WHERE account_id = $2 AND unlinked_at IS NULL",
        )
        .bind(now)
        .bind(current.id.as_uuid()),
    )
    .await?;
    Ok(account)
}

#[async_trait::async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn list_accounts(
        &self,
        connection: ConnectionId,
        q: &AccountQuery,
    ) -> StoreResult<Page<BankFeedAccount>> {
        list::list_accounts(&self.0, connection, q).await
    }

    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, account.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        if B::DIALECT == Dialect::Postgres {
            // Creates of one internal id take turns, as on SQLite's single writer: `FOR UPDATE`
            // below cannot lock a row that does not exist yet, and without this a concurrent
            // override of a new id would lose on the unique index instead of updating the winner's.
            tx.execute(
                Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(format!(
                    "bank_feed_accounts:{}:{}",
                    account.connection_id, account.internal_bank_account_id
                )),
            )
            .await?;
        }
        // Locked, so a concurrent override or PATCH of the same account waits for this one.
        let existing = find_live::<B>(
            &mut tx,
            account.connection_id,
            Key::InternalId(&account.internal_bank_account_id),
            true,
        )
        .await?;
        let parent_live = parent_is_live::<B>(
            &mut tx,
            account.connection_id,
            account.parent_bank_feed_account_id,
        )
        .await?;
        let (stored, created) = decide_create(account, existing, override_existing, parent_live)?;
        // A concurrent create of the same new internal id loses here, on the unique index, with
        // `Conflict("bank_feed_accounts_internal_id_key")` (see `error::UNIQUE`).
        save(&mut tx, &stored).await?;
        let event = if created {
            EventKind::AccountCreated
        } else {
            EventKind::AccountUpdated
        };
        record(&mut tx, &stored, event, account.created_at).await?;
        let result = (stored, created);
        idempotency::finish(&mut tx, idem, &result).await?;
        tx.commit().await?;
        Ok(Outcome::Done(result))
    }

    async fn get_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let db = &self.0;
        find_live::<B>(&mut db.reader(), connection, Key::Id(id), false).await
    }

    async fn feed_counts(&self, org: OrgId) -> StoreResult<FeedCounts> {
        #[derive(sqlx::FromRow)]
        struct Row {
            feed_status: String,
            n: crate::DbInt,
        }
        let rows: Vec<Row> = self
            .0
            .reader()
            .fetch_all(
                Sql::new(
                    "SELECT a.feed_status, COUNT(*) AS n
                     FROM bank_feed_accounts a JOIN connections c ON c.id = a.connection_id
                     WHERE a.org_id = $1 AND a.deleted_at IS NULL AND c.deleted_at IS NULL
                     GROUP BY a.feed_status",
                )
                .bind(org.as_uuid()),
            )
            .await?;
        let mut counts = FeedCounts::default();
        for r in rows {
            let n = r.n.count();
            match bankfeeds_store::decode::account::feed_status(&r.feed_status)? {
                FeedStatus::Active => counts.linked += n,
                FeedStatus::Inactive => counts.pending += n,
            }
        }
        Ok(counts)
    }

    async fn find_org_account(
        &self,
        org: OrgId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM bank_feed_accounts
             WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
               AND connection_id IN (SELECT id FROM connections WHERE deleted_at IS NULL)"
        );
        self.0
            .reader()
            .optional::<AccountRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
            .await
    }

    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let current = find_live::<B>(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let parent_live =
            parent_is_live::<B>(&mut tx, connection, patch.parent_after(&current)).await?;
        // Whether transactions exist matters only to a currency change.
        let has_transactions = match patch.currency {
            Some(c) if c != current.currency => has_transactions(&mut tx, id).await?,
            _ => false,
        };
        let account = decide_patch(current, patch, now, has_transactions, parent_live)?;
        save(&mut tx, &account).await?;
        record(&mut tx, &account, EventKind::AccountUpdated, now).await?;
        let account = if patch.deactivate_feed {
            unlink_everywhere::<B>(&mut tx, &account, now).await?
        } else {
            account
        };
        idempotency::finish(&mut tx, idem, &account).await?;
        tx.commit().await?;
        Ok(Outcome::Done(account))
    }

    async fn delete_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let account = find_live::<B>(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.execute(
            Sql::new(
                "UPDATE bank_feed_accounts SET deleted_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id.as_uuid()),
        )
        .await?;
        record(&mut tx, &account, EventKind::AccountDeleted, now).await?;
        crate::live::deletions::queue_in::<B>(
            &mut tx,
            crate::live::deletions::Scope::Account(id),
            now,
        )
        .await?;
        tx.commit().await
    }

    async fn disconnect_account_by(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<BankFeedAccount> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let current = find_live::<B>(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let account = unlink_everywhere_by::<B>(&mut tx, &current, now, by).await?;
        crate::live::deletions::queue_in::<B>(
            &mut tx,
            crate::live::deletions::Scope::Account(id),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let account = set_feed_state_in::<B>(&mut tx, id, state, now).await?;
        tx.commit().await?;
        Ok(account)
    }
}
