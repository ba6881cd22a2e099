//! Account rows on PostgreSQL: the columns, their conversion, writing one, finding a live one.

use crate::{db, map_err};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, Timestamp};
use bankfeeds_store::decode::account::{
    account_type, balance, currency, details, feed_status, platform_data,
};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

#[derive(FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    org_id: Uuid,
    connection_id: Uuid,
    internal_bank_account_id: String,
    parent_id: Option<Uuid>,
    bank_account_type: String,
    currency_code: String,
    feed_status: String,
    transaction_ready: bool,
    transaction_start_date: Option<Timestamp>,
    current_balance: Option<String>,
    details: String,
    platform_data: Option<String>,
    last_synced_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<AccountRow> for BankFeedAccount {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> StoreResult<Self> {
        Ok(BankFeedAccount {
            id: r.id.into(),
            org_id: r.org_id.into(),
            connection_id: r.connection_id.into(),
            internal_bank_account_id: r.internal_bank_account_id,
            parent_bank_feed_account_id: r.parent_id.map(Into::into),
            bank_account_type: account_type(&r.bank_account_type)?,
            currency: currency(&r.currency_code)?,
            feed_status: feed_status(&r.feed_status)?,
            transaction_ready: r.transaction_ready,
            transaction_start_date: r.transaction_start_date,
            current_balance: balance(r.current_balance)?,
            details: details(&r.details)?,
            platform_data: platform_data(r.platform_data)?,
            last_synced_at: r.last_synced_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The account columns, unqualified: join them only with tables sharing none of these names
/// (e.g. `company_feeds`).
pub(crate) const COLUMNS: &str = "id, org_id, connection_id, internal_bank_account_id, parent_id,
    bank_account_type, currency_code, feed_status, transaction_ready, transaction_start_date,
    current_balance::text AS current_balance, details, platform_data, last_synced_at,
    created_at, updated_at";

/// Inserts or rewrites the whole row.
pub(crate) async fn save(tx: &mut PgConnection, a: &BankFeedAccount) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bank_feed_accounts (id, org_id, connection_id, internal_bank_account_id,
             parent_id, bank_account_type, currency_code, feed_status, transaction_ready,
             transaction_start_date, current_balance, details, platform_data, last_synced_at,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12, $13, $14, $15, $16)
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
    .bind(a.current_balance.map(|b| b.to_string()))
    .bind(serde_json::to_string(&a.details).expect("details serialise"))
    .bind(a.platform_data.as_ref().map(|p| p.to_string()))
    .bind(a.last_synced_at)
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// How a live account is looked up.
pub(crate) enum Key<'a> {
    Id(BankFeedAccountId),
    InternalId(&'a str),
}

pub(crate) async fn find_live(
    tx: &mut PgConnection,
    connection: ConnectionId,
    key: Key<'_>,
    for_update: bool,
) -> StoreResult<Option<BankFeedAccount>> {
    let clause = match key {
        Key::Id(_) => "id",
        Key::InternalId(_) => "internal_bank_account_id",
    };
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM bank_feed_accounts
         WHERE connection_id = $1 AND {clause} = $2 AND deleted_at IS NULL{lock}"
    );
    let query = sqlx::query_as::<_, AccountRow>(&sql).bind(connection.as_uuid());
    let query = match key {
        Key::Id(id) => query.bind(id.as_uuid()),
        Key::InternalId(internal) => query.bind(internal),
    };
    db::optional(query, &mut *tx).await
}
