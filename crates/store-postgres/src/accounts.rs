//! Bank feed accounts on PostgreSQL.
//!
//! Writers read the row they change with `SELECT ... FOR UPDATE`, so concurrent writes to one
//! account (from this or another hub instance) take turns, as they do on SQLite's single writer.
//! Amounts cross the wire as text (`$n::numeric` in, `current_balance::text` out), never as a
//! float.

use async_trait::async_trait;

use bankfeeds_domain::account::{
    decide_create, decide_patch, AccountPatch, AccountQuery, AccountSortField, CompareOp,
    FeedState, SortDirection,
};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, Page, Timestamp};
use bankfeeds_store::{EventKind, Idem, NewEvent, Outcome, StoreError, StoreResult};
use chrono::DateTime;
use sqlx::PgConnection;

use crate::PostgresStore;
use crate::{db, events, idempotency, map_err};

mod rows;

pub(crate) use rows::{find_live, save, AccountRow, Key, COLUMNS};

/// Whether `parent` (if any) is a live account of the connection.
async fn parent_is_live(
    tx: &mut PgConnection,
    connection: ConnectionId,
    parent: Option<BankFeedAccountId>,
) -> StoreResult<bool> {
    match parent {
        None => Ok(true),
        Some(p) => Ok(find_live(tx, connection, Key::Id(p), false)
            .await?
            .is_some()),
    }
}

async fn record(
    tx: &mut PgConnection,
    a: &BankFeedAccount,
    kind: EventKind,
    now: Timestamp,
) -> StoreResult<()> {
    events::append(tx, &NewEvent::account(kind, a), now).await
}

/// The earliest instant a `timestamptz` holds (4714-11-24 BC), in microseconds since 1970.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// Where a microsecond instant falls relative to what PostgreSQL (and chrono) can hold: every
/// stored value lies inside, so an instant outside compares the same against all of them.
pub(crate) enum Instant {
    BeforeAll,
    At(Timestamp),
    AfterAll,
}

pub(crate) fn instant(micros: i64) -> Instant {
    if micros < PG_MIN_MICROS {
        return Instant::BeforeAll;
    }
    // chrono's range ends before PostgreSQL's, and every stored value was read through chrono.
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => Instant::At(t),
        None => Instant::AfterAll,
    }
}

async fn has_transactions(tx: &mut PgConnection, id: BankFeedAccountId) -> StoreResult<bool> {
    let newest: Option<Option<Timestamp>> =
        sqlx::query_scalar("SELECT newest_posted_at FROM bank_feed_accounts WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    Ok(newest.flatten().is_some())
}

/// Deletes every live account of a connection inside the caller's transaction (the connection
/// is being deleted), each with its event: their feeds leave every platform company and are no
/// longer synced.
pub(crate) async fn delete_all_of_connection(
    tx: &mut PgConnection,
    connection: ConnectionId,
    now: Timestamp,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE bank_feed_accounts SET deleted_at = $2, updated_at = $2
             WHERE connection_id = $1 AND deleted_at IS NULL
             RETURNING {COLUMNS}"
    );
    let query = sqlx::query_as::<_, AccountRow>(&sql)
        .bind(connection.as_uuid())
        .bind(now);
    let mut accounts: Vec<BankFeedAccount> = db::all(query, &mut *tx).await?;
    // RETURNING gives no order; the events follow the accounts' ids.
    accounts.sort_by_key(|a| a.id);
    for account in &accounts {
        record(tx, account, EventKind::AccountDeleted, now).await?;
    }
    Ok(())
}

/// Sets the platform-side feed state inside the caller's transaction, locking the account's row
/// until that transaction ends. `NotFound` when there is no live account with this id.
pub(crate) async fn set_feed_state_in(
    tx: &mut PgConnection,
    id: BankFeedAccountId,
    state: &FeedState,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts
             WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
    );
    let query = sqlx::query_as::<_, AccountRow>(&sql).bind(id.as_uuid());
    let mut account: BankFeedAccount = db::one(query, &mut *tx).await?;
    account.feed_status = state.feed_status;
    account.transaction_ready = state.transaction_ready;
    account.transaction_start_date = state.transaction_start_date;
    account.updated_at = now;
    save(tx, &account).await?;
    record(tx, &account, EventKind::AccountFeedChanged, now).await?;
    Ok(account)
}

/// Takes a live account's feed off every platform company, inside the caller's transaction: its
/// unlinked feed state (with the event), and the end of each company's link.
pub(crate) async fn unlink_everywhere(
    tx: &mut PgConnection,
    current: &BankFeedAccount,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    let state = bankfeeds_domain::link::unlinked_feed_state(current);
    let account = set_feed_state_in(tx, current.id, &state, now).await?;
    db::execute(
        sqlx::query(
            "UPDATE company_feeds SET unlinked_at = $1 WHERE account_id = $2 AND unlinked_at IS NULL",
        )
        .bind(now)
        .bind(current.id.as_uuid()),
        &mut *tx,
    )
    .await?;
    Ok(account)
}

#[async_trait]
impl bankfeeds_store::AccountStore for PostgresStore {
    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, account.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        // Creates of one internal id take turns, as on SQLite's single writer: `FOR UPDATE` below
        // cannot lock a row that does not exist yet, and without this a concurrent override of a
        // new id would lose on the unique index instead of updating the winner's row.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!(
                "bank_feed_accounts:{}:{}",
                account.connection_id, account.internal_bank_account_id
            ))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // Locked, so a concurrent override or PATCH of the same account waits for this one.
        let existing = find_live(
            &mut tx,
            account.connection_id,
            Key::InternalId(&account.internal_bank_account_id),
            true,
        )
        .await?;
        let parent_live = parent_is_live(
            &mut tx,
            account.connection_id,
            account.parent_bank_feed_account_id,
        )
        .await?;
        let (stored, created) = decide_create(account, existing, override_existing, parent_live)?;
        // A concurrent create of the same new internal id loses here, on the unique index, with
        // `Conflict("bank_feed_accounts_internal_id_key")` (see `error::KNOWN_CONSTRAINTS`).
        save(&mut tx, &stored).await?;
        let event = if created {
            EventKind::AccountCreated
        } else {
            EventKind::AccountUpdated
        };
        record(&mut tx, &stored, event, account.created_at).await?;
        let result = (stored, created);
        idempotency::finish(&mut tx, idem, &result).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Outcome::Done(result))
    }

    async fn get_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        find_live(&mut conn, connection, Key::Id(id), false).await
    }

    async fn list_accounts(
        &self,
        connection: ConnectionId,
        q: &AccountQuery,
    ) -> StoreResult<Page<BankFeedAccount>> {
        let column = |f: AccountSortField| match f {
            AccountSortField::UpdatedAt => "updated_at",
            AccountSortField::LastSyncedAt => "last_synced_at",
        };
        // A null sort value sorts as the epoch: the cursor's 0 microseconds.
        let sort = format!("COALESCE({}, 'epoch'::timestamptz)", column(q.sort));
        let mut sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts WHERE connection_id = $1 AND deleted_at IS NULL"
    );
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        let mut binds: Vec<Timestamp> = Vec::new();
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
                    sql.push_str(&format!(" AND {} {op} ${}", column(f.field), next()));
                    binds.push(t);
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
        let mut after_id = None;
        if let Some(after) = q.after {
            match (instant(after.at_micros), q.direction) {
                (Instant::At(t), _) => {
                    let (at, id) = (next(), next());
                    sql.push_str(&format!(
                        " AND ({sort} {cmp} ${at} OR ({sort} = ${at} AND id {cmp} ${id}))"
                    ));
                    binds.push(t);
                    after_id = Some(after.id);
                }
                // Every row comes after the cursor.
                (Instant::BeforeAll, SortDirection::Asc)
                | (Instant::AfterAll, SortDirection::Desc) => {}
                // No row does.
                (Instant::BeforeAll, SortDirection::Desc)
                | (Instant::AfterAll, SortDirection::Asc) => {
                    return Ok(Page::empty());
                }
            }
        }
        let limit = next();
        sql.push_str(&format!(" ORDER BY {sort} {dir}, id {dir} LIMIT ${limit}"));

        let mut query = sqlx::query_as::<_, AccountRow>(&sql).bind(connection.as_uuid());
        for t in binds {
            query = query.bind(t);
        }
        if let Some(id) = after_id {
            query = query.bind(id.as_uuid());
        }
        let query = query.bind(i64::from(q.limit) + 1);
        db::page(query, &self.pool, q.limit).await
    }

    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let current = find_live(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let parent_live = parent_is_live(&mut tx, connection, patch.parent_after(&current)).await?;
        // Whether transactions exist matters only to a currency change.
        let has_transactions = match patch.currency {
            Some(c) if c != current.currency => has_transactions(&mut tx, id).await?,
            _ => false,
        };
        let account = decide_patch(current, patch, now, has_transactions, parent_live)?;
        save(&mut tx, &account).await?;
        record(&mut tx, &account, EventKind::AccountUpdated, now).await?;
        let account = if patch.deactivate_feed {
            unlink_everywhere(&mut tx, &account, now).await?
        } else {
            account
        };
        idempotency::finish(&mut tx, idem, &account).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Outcome::Done(account))
    }

    async fn delete_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let account = find_live(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        db::execute(
            sqlx::query(
                "UPDATE bank_feed_accounts SET deleted_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id.as_uuid()),
            &mut *tx,
        )
        .await?;
        record(&mut tx, &account, EventKind::AccountDeleted, now).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn disconnect_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let current = find_live(&mut tx, connection, Key::Id(id), true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let account = unlink_everywhere(&mut tx, &current, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(account)
    }

    async fn set_feed_state(
        &self,
        id: BankFeedAccountId,
        state: &FeedState,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let account = set_feed_state_in(&mut tx, id, state, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(account)
    }
}
