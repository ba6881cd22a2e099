//! Account rows: the columns, their conversion, writing one, finding a live one.

use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId};
use bankfeeds_store::decode::account::{
    account_type, currency, details, feed_status, platform_data,
};
use bankfeeds_store::{StoreError, StoreResult};

use crate::{Backend, DbAmount, DbId, DbTime, Exec, Sql};

#[derive(sqlx::FromRow)]
pub struct AccountRow {
    id: DbId,
    org_id: DbId,
    connection_id: DbId,
    internal_bank_account_id: String,
    parent_id: Option<DbId>,
    bank_account_type: String,
    currency_code: String,
    feed_status: String,
    transaction_ready: bool,
    transaction_start_date: Option<DbTime>,
    current_balance: Option<DbAmount>,
    details: String,
    platform_data: Option<String>,
    last_synced_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<AccountRow> for BankFeedAccount {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> StoreResult<Self> {
        Ok(BankFeedAccount {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            internal_bank_account_id: r.internal_bank_account_id,
            parent_bank_feed_account_id: r.parent_id.map(|p| p.0.into()),
            bank_account_type: account_type(&r.bank_account_type)?,
            currency: currency(&r.currency_code)?,
            feed_status: feed_status(&r.feed_status)?,
            transaction_ready: r.transaction_ready,
            transaction_start_date: r.transaction_start_date.map(|t| t.0),
            current_balance: r
                .current_balance
                .map(|b| b.to_amount("bank_feed_accounts.current_balance"))
                .transpose()?,
            details: details(&r.details)?,
            platform_data: platform_data(r.platform_data)?,
            last_synced_at: r.last_synced_at.map(|t| t.0),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// An account's columns from an outer join: all `NULL` when the row has no account.
#[derive(sqlx::FromRow)]
pub struct JoinedAccountRow {
    id: Option<DbId>,
    org_id: Option<DbId>,
    connection_id: Option<DbId>,
    internal_bank_account_id: Option<String>,
    parent_id: Option<DbId>,
    bank_account_type: Option<String>,
    currency_code: Option<String>,
    feed_status: Option<String>,
    transaction_ready: Option<bool>,
    transaction_start_date: Option<DbTime>,
    current_balance: Option<DbAmount>,
    details: Option<String>,
    platform_data: Option<String>,
    last_synced_at: Option<DbTime>,
    created_at: Option<DbTime>,
    updated_at: Option<DbTime>,
}

impl JoinedAccountRow {
    /// The account, when the join found one (its `NOT NULL` columns all present).
    pub fn account(self) -> Option<AccountRow> {
        Some(AccountRow {
            id: self.id?,
            org_id: self.org_id?,
            connection_id: self.connection_id?,
            internal_bank_account_id: self.internal_bank_account_id?,
            parent_id: self.parent_id,
            bank_account_type: self.bank_account_type?,
            currency_code: self.currency_code?,
            feed_status: self.feed_status?,
            transaction_ready: self.transaction_ready?,
            transaction_start_date: self.transaction_start_date,
            current_balance: self.current_balance,
            details: self.details?,
            platform_data: self.platform_data,
            last_synced_at: self.last_synced_at,
            created_at: self.created_at?,
            updated_at: self.updated_at?,
        })
    }
}

/// The account columns, unqualified: join them only with tables sharing none of these names
/// (e.g. `company_feeds`).
pub const COLUMNS: &str = "id, org_id, connection_id, internal_bank_account_id, parent_id,
    bank_account_type, currency_code, feed_status, transaction_ready, transaction_start_date,
    current_balance, details, platform_data, last_synced_at, created_at, updated_at";

/// Inserts or rewrites the whole row.
pub async fn save(tx: &mut impl Exec, a: &BankFeedAccount) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO bank_feed_accounts (id, org_id, connection_id, internal_bank_account_id,
                 parent_id, bank_account_type, currency_code, feed_status, transaction_ready,
                 transaction_start_date, current_balance, details, platform_data, last_synced_at,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
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
        .bind(a.id.as_uuid())
        .bind(a.org_id.as_uuid())
        .bind(a.connection_id.as_uuid())
        .bind(&a.internal_bank_account_id)
        .bind(a.parent_bank_feed_account_id.map(|p| p.as_uuid()))
        .bind(a.bank_account_type.as_str())
        .bind(a.currency.code())
        .bind(a.feed_status.as_str())
        .bind(a.transaction_ready)
        .bind(a.transaction_start_date)
        .bind(a.current_balance.map(|b| b.as_decimal()))
        .bind(serde_json::to_string(&a.details).expect("details serialise"))
        .bind(a.platform_data.as_ref().map(|p| p.to_string()))
        .bind(a.last_synced_at)
        .bind(a.created_at)
        .bind(a.updated_at),
    )
    .await?;
    Ok(())
}

/// How a live account is looked up.
pub enum Key<'a> {
    Id(BankFeedAccountId),
    InternalId(&'a str),
}

/// A live account of the connection; with `for_update`, its row locked until the caller's
/// transaction ends (on PostgreSQL; SQLite's one writer holds everything already).
pub async fn find_live<B: Backend>(
    tx: &mut impl Exec,
    connection: ConnectionId,
    key: Key<'_>,
    for_update: bool,
) -> StoreResult<Option<BankFeedAccount>> {
    let (clause, value) = match key {
        Key::Id(id) => ("id", crate::Arg::from(id.as_uuid())),
        Key::InternalId(internal) => ("internal_bank_account_id", crate::Arg::from(internal)),
    };
    let lock = if for_update {
        B::DIALECT.for_update()
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts
         WHERE connection_id = $1 AND {clause} = $2 AND deleted_at IS NULL{lock}"
    );
    tx.optional::<AccountRow, _>(Sql::new(sql).bind(connection.as_uuid()).bind(value))
        .await
}

/// Whether every one of `ids` is a live account of the connection, each row locked until the
/// caller's transaction ends. Locked in id order, so that concurrent completions over the same
/// accounts (a link, a Xero consent) cannot deadlock; stops at the first that is not live.
pub async fn all_live_locked<B: Backend>(
    tx: &mut impl Exec,
    connection: ConnectionId,
    ids: &[BankFeedAccountId],
) -> StoreResult<bool> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    for id in ids {
        if find_live::<B>(tx, connection, Key::Id(id), true)
            .await?
            .is_none()
        {
            return Ok(false);
        }
    }
    Ok(true)
}
