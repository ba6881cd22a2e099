//! Bank feed accounts on SQLite.

use async_trait::async_trait;

use bankfeeds_domain::account::{
    decide_create, decide_patch, AccountPatch, AccountQuery, AccountSortField, CompareOp,
    FeedState, SortDirection,
};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, Page, Timestamp};
use bankfeeds_store::decode::account::{
    account_type, balance, currency, details, feed_status, platform_data,
};
use bankfeeds_store::{EventKind, Idem, NewEvent, Outcome, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{db, events, idempotency, map_err, time, SqliteStore};

#[derive(FromRow)]
struct AccountRow {
    id: DbUuid,
    org_id: DbUuid,
    connection_id: DbUuid,
    internal_bank_account_id: String,
    parent_id: Option<DbUuid>,
    bank_account_type: String,
    currency_code: String,
    feed_status: String,
    transaction_ready: bool,
    transaction_start_date: Option<i64>,
    current_balance: Option<String>,
    details: String,
    platform_data: Option<String>,
    last_synced_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for BankFeedAccount {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> StoreResult<Self> {
        Ok(BankFeedAccount {
            id: r.id.into_uuid().into(),
            org_id: r.org_id.into_uuid().into(),
            connection_id: r.connection_id.into_uuid().into(),
            internal_bank_account_id: r.internal_bank_account_id,
            parent_bank_feed_account_id: r.parent_id.map(|u| u.into_uuid().into()),
            bank_account_type: account_type(&r.bank_account_type)?,
            currency: currency(&r.currency_code)?,
            feed_status: feed_status(&r.feed_status)?,
            transaction_ready: r.transaction_ready,
            transaction_start_date: time::opt_from_db(r.transaction_start_date)?,
            current_balance: balance(r.current_balance)?,
            details: details(&r.details)?,
            platform_data: platform_data(r.platform_data)?,
            last_synced_at: time::opt_from_db(r.last_synced_at)?,
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, org_id, connection_id, internal_bank_account_id, parent_id,
    bank_account_type, currency_code, feed_status, transaction_ready, transaction_start_date,
    current_balance, details, platform_data, last_synced_at, created_at, updated_at";

/// Inserts or rewrites the whole row.
async fn save(tx: &mut SqliteConnection, a: &BankFeedAccount) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bank_feed_accounts (id, org_id, connection_id, internal_bank_account_id,
             parent_id, bank_account_type, currency_code, feed_status, transaction_ready,
             transaction_start_date, current_balance, details, platform_data, last_synced_at,
             created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             internal_bank_account_id = excluded.internal_bank_account_id,
             parent_id = excluded.parent_id,
             bank_account_type = excluded.bank_account_type,
             currency_code = excluded.currency_code,
             feed_status = excluded.feed_status,
             transaction_ready = excluded.transaction_ready,
             transaction_start_date = excluded.transaction_start_date,
             current_balance = excluded.current_balance,
             details = excluded.details,
             platform_data = excluded.platform_data,
             last_synced_at = excluded.last_synced_at,
             updated_at = excluded.updated_at",
    )
    .bind(a.id.to_string())
    .bind(a.org_id.to_string())
    .bind(a.connection_id.to_string())
    .bind(&a.internal_bank_account_id)
    .bind(a.parent_bank_feed_account_id.map(|p| p.to_string()))
    .bind(a.bank_account_type.as_str())
    .bind(a.currency.code())
    .bind(a.feed_status.as_str())
    .bind(a.transaction_ready)
    .bind(a.transaction_start_date.map(time::to_db))
    .bind(a.current_balance.map(|b| b.to_string()))
    .bind(serde_json::to_string(&a.details).expect("details serialise"))
    .bind(a.platform_data.as_ref().map(|p| p.to_string()))
    .bind(a.last_synced_at.map(time::to_db))
    .bind(time::to_db(a.created_at))
    .bind(time::to_db(a.updated_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn find_live(
    tx: &mut SqliteConnection,
    connection: ConnectionId,
    clause: &str,
    value: String,
) -> StoreResult<Option<BankFeedAccount>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts
         WHERE connection_id = ? AND {clause} = ? AND deleted_at IS NULL"
    );
    let query = sqlx::query_as::<_, AccountRow>(&sql)
        .bind(connection.to_string())
        .bind(value);
    db::optional(query, &mut *tx).await
}

/// Whether `parent` (if any) is a live account of the connection.
async fn parent_is_live(
    tx: &mut SqliteConnection,
    connection: ConnectionId,
    parent: Option<BankFeedAccountId>,
) -> StoreResult<bool> {
    match parent {
        None => Ok(true),
        Some(p) => Ok(find_live(tx, connection, "id", p.to_string())
            .await?
            .is_some()),
    }
}

async fn record(
    tx: &mut SqliteConnection,
    a: &BankFeedAccount,
    kind: EventKind,
    now: Timestamp,
) -> StoreResult<()> {
    events::append(tx, &NewEvent::account(kind, a), now).await
}

async fn has_transactions(tx: &mut SqliteConnection, id: BankFeedAccountId) -> StoreResult<bool> {
    let newest: Option<Option<i64>> =
        sqlx::query_scalar("SELECT newest_posted_at FROM bank_feed_accounts WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    Ok(newest.flatten().is_some())
}

/// Deletes every live account of a connection inside the caller's write transaction (the
/// connection is being deleted), each with its event: their feeds leave every platform company
/// and are no longer synced.
pub(crate) async fn delete_all_of_connection(
    tx: &mut SqliteConnection,
    connection: ConnectionId,
    now: Timestamp,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE bank_feed_accounts SET deleted_at = ?1, updated_at = ?1
             WHERE connection_id = ?2 AND deleted_at IS NULL
             RETURNING {COLUMNS}"
    );
    let query = sqlx::query_as::<_, AccountRow>(&sql)
        .bind(time::to_db(now))
        .bind(connection.to_string());
    let mut accounts: Vec<BankFeedAccount> = db::all(query, &mut *tx).await?;
    // RETURNING gives no order; the events follow the accounts' ids.
    accounts.sort_by_key(|a| a.id);
    for account in &accounts {
        record(tx, account, EventKind::AccountDeleted, now).await?;
    }
    Ok(())
}

/// Sets the platform-side feed state inside the caller's write transaction.
pub(crate) async fn set_feed_state_in(
    tx: &mut SqliteConnection,
    id: BankFeedAccountId,
    state: &FeedState,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    let sql =
        format!("SELECT {COLUMNS} FROM bank_feed_accounts WHERE id = ? AND deleted_at IS NULL");
    let query = sqlx::query_as::<_, AccountRow>(&sql).bind(id.to_string());
    let mut account: BankFeedAccount = db::one(query, &mut *tx).await?;
    account.feed_status = state.feed_status;
    account.transaction_ready = state.transaction_ready;
    account.transaction_start_date = state.transaction_start_date;
    account.updated_at = now;
    save(tx, &account).await?;
    record(tx, &account, EventKind::AccountFeedChanged, now).await?;
    Ok(account)
}

/// Takes a live account's feed off every platform company, inside the caller's write
/// transaction: its unlinked feed state (with the event), and the end of each company's link.
pub(crate) async fn unlink_everywhere(
    tx: &mut SqliteConnection,
    current: &BankFeedAccount,
    now: Timestamp,
) -> StoreResult<BankFeedAccount> {
    let state = bankfeeds_domain::link::unlinked_feed_state(current);
    let account = set_feed_state_in(tx, current.id, &state, now).await?;
    db::execute(
        sqlx::query(
            "UPDATE company_feeds SET unlinked_at = ? WHERE account_id = ? AND unlinked_at IS NULL",
        )
        .bind(time::to_db(now))
        .bind(current.id.to_string()),
        &mut *tx,
    )
    .await?;
    Ok(account)
}

#[async_trait]
impl bankfeeds_store::AccountStore for SqliteStore {
    async fn create_account(
        &self,
        account: &BankFeedAccount,
        override_existing: bool,
        idem: Option<Idem<'_, (BankFeedAccount, bool)>>,
    ) -> StoreResult<Outcome<(BankFeedAccount, bool)>> {
        let mut tx = self.write_tx().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, account.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let existing = find_live(
            &mut tx,
            account.connection_id,
            "internal_bank_account_id",
            account.internal_bank_account_id.clone(),
        )
        .await?;
        let parent_live = parent_is_live(
            &mut tx,
            account.connection_id,
            account.parent_bank_feed_account_id,
        )
        .await?;
        let (stored, created) = decide_create(account, existing, override_existing, parent_live)?;
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
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        find_live(&mut conn, connection, "id", id.to_string()).await
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
        let sort = format!("COALESCE({}, 0)", column(q.sort));
        let mut sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts WHERE connection_id = ? AND deleted_at IS NULL"
    );
        for f in &q.filters {
            let op = match f.op {
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
                CompareOp::Eq => "=",
            };
            sql.push_str(&format!(" AND {} {op} ?", column(f.field)));
        }
        let (cmp, dir) = match q.direction {
            SortDirection::Asc => (">", "ASC"),
            SortDirection::Desc => ("<", "DESC"),
        };
        if q.after.is_some() {
            sql.push_str(&format!(
                " AND ({sort} {cmp} ? OR ({sort} = ? AND id {cmp} ?))"
            ));
        }
        sql.push_str(&format!(" ORDER BY {sort} {dir}, id {dir} LIMIT ?"));

        let mut query = sqlx::query_as::<_, AccountRow>(&sql).bind(connection.to_string());
        for f in &q.filters {
            query = query.bind(time::to_db(f.value));
        }
        if let Some(after) = q.after {
            query = query
                .bind(after.at_micros)
                .bind(after.at_micros)
                .bind(after.id.to_string());
        }
        let query = query.bind(i64::from(q.limit) + 1);
        db::page(query, &self.reader, q.limit).await
    }

    async fn update_account(
        &self,
        connection: ConnectionId,
        id: BankFeedAccountId,
        patch: &AccountPatch,
        now: Timestamp,
        idem: Option<Idem<'_, BankFeedAccount>>,
    ) -> StoreResult<Outcome<BankFeedAccount>> {
        let mut tx = self.write_tx().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let current = find_live(&mut tx, connection, "id", id.to_string())
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
        let mut tx = self.write_tx().await?;
        let account = find_live(&mut tx, connection, "id", id.to_string())
            .await?
            .ok_or(StoreError::NotFound)?;
        db::execute(
            sqlx::query(
                "UPDATE bank_feed_accounts SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
            )
            .bind(time::to_db(now))
            .bind(id.to_string()),
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
        let mut tx = self.write_tx().await?;
        let current = find_live(&mut tx, connection, "id", id.to_string())
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
        let mut tx = self.write_tx().await?;
        let account = set_feed_state_in(&mut tx, id, state, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(account)
    }
}
