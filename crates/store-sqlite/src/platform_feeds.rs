//! The sandbox platforms' side of a feed on SQLite: unlinking, ingesting as statements, and
//! finding the feeds due for a scheduled sync.

use async_trait::async_trait;

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{self, Pending, Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform, Timestamp};
use bankfeeds_store::decode::{count, parse};
use bankfeeds_store::{NewEvent, StoreError, StoreResult};
use rust_decimal::Decimal;
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::transactions::{self, TransactionRow, COLUMNS};
use crate::{accounts, db, events, map_err, time, SqliteStore};

/// The linked feed's account, inside the caller's connection or transaction.
async fn linked(
    conn: &mut SqliteConnection,
    company: CompanyId,
    account: BankFeedAccountId,
) -> StoreResult<Option<BankFeedAccount>> {
    let connection: Option<DbUuid> = sqlx::query_scalar(
        "SELECT a.connection_id FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = ? AND f.account_id = ? AND f.unlinked_at IS NULL
           AND a.deleted_at IS NULL",
    )
    .bind(company.to_string())
    .bind(account.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some(connection) = connection else {
        return Ok(None);
    };
    let connection = connection.into_uuid().into();
    accounts::find_live(conn, connection, "id", account.to_string()).await
}

#[derive(FromRow)]
struct StatementRow {
    id: DbUuid,
    company_id: DbUuid,
    account_id: DbUuid,
    ingested_at: i64,
    transaction_count: i64,
    first_transaction_id: DbUuid,
    last_transaction_id: DbUuid,
    opening_balance: String,
    closing_balance: String,
}

impl TryFrom<StatementRow> for Statement {
    type Error = StoreError;

    fn try_from(r: StatementRow) -> StoreResult<Self> {
        Ok(Statement {
            id: r.id.into_uuid().into(),
            company_id: r.company_id.into_uuid().into(),
            account_id: r.account_id.into_uuid().into(),
            ingested_at: time::from_db(r.ingested_at)?,
            transaction_count: count(r.transaction_count, "statements.transaction_count")?,
            first_transaction_id: r.first_transaction_id.into_uuid().into(),
            last_transaction_id: r.last_transaction_id.into_uuid().into(),
            opening_balance: parse(&r.opening_balance, "statements.opening_balance")?,
            closing_balance: parse(&r.closing_balance, "statements.closing_balance")?,
        })
    }
}

#[async_trait]
impl bankfeeds_store::PlatformFeedStore for SqliteStore {
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        let ids: Vec<(DbUuid, String)> = sqlx::query_as(
            "SELECT a.connection_id, a.id FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = ? AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
         ORDER BY f.linked_at, a.id",
        )
        .bind(company.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        let mut feeds = Vec::with_capacity(ids.len());
        for (connection, id) in ids {
            let connection = connection.into_uuid().into();
            if let Some(a) = accounts::find_live(&mut conn, connection, "id", id).await? {
                feeds.push(a);
            }
        }
        Ok(feeds)
    }

    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        linked(&mut conn, company, account).await
    }

    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let mut tx = self.write_tx().await?;
        let current = linked(&mut tx, company, account)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE company_feeds SET unlinked_at = ? WHERE company_id = ? AND account_id = ?",
        )
        .bind(time::to_db(now))
        .bind(company.to_string())
        .bind(account.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let state = bankfeeds_domain::link::unlinked_feed_state(&current);
        let account = accounts::set_feed_state_in(&mut tx, account, &state, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(account)
    }

    async fn ingest_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        per_statement: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Statement>> {
        let mut tx = self.write_tx().await?;
        let feed = linked(&mut tx, company, account)
            .await?
            .ok_or(StoreError::NotFound)?;
        // Every not-yet-ingested row of the account, walking its (account_id, id) index; the write
        // lock held since BEGIN IMMEDIATE keeps the set still until the UPDATE below.
        let rows: Vec<(DbUuid, String)> = sqlx::query_as(
            "SELECT id, amount FROM transactions
         WHERE account_id = ? AND platform_ingested = 0 ORDER BY id",
        )
        .bind(account.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let pending = rows
            .iter()
            .map(|(id, amount)| {
                Ok(Pending {
                    id: id.into_uuid().into(),
                    amount: parse(amount, "transactions.amount")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT closing_balance FROM statements WHERE account_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(account.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let previous = previous
            .map(|b| parse::<Decimal>(&b, "statements.closing_balance"))
            .transpose()?;
        let statements = statement::plan(
            company,
            account,
            &pending,
            per_statement as usize,
            previous,
            feed.current_balance.map(|b| b.as_decimal()),
            now,
        );
        for s in &statements {
            sqlx::query(
            "INSERT INTO statements (id, company_id, account_id, ingested_at, transaction_count,
                 first_transaction_id, last_transaction_id, opening_balance, closing_balance)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.id.to_string())
        .bind(company.to_string())
        .bind(account.to_string())
        .bind(time::to_db(now))
        .bind(i64::from(s.transaction_count))
        .bind(s.first_transaction_id.to_string())
        .bind(s.last_transaction_id.to_string())
        .bind(s.opening_balance.to_string())
        .bind(s.closing_balance.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        }
        transactions::mark_ingested_in(&mut tx, account, now).await?;
        let event = NewEvent::account_synced(&feed, company, pending.len(), statements.len());
        events::append(&mut tx, &event, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(statements)
    }

    async fn list_statements(
        &self,
        account: BankFeedAccountId,
        before: Option<StatementId>,
        limit: u32,
    ) -> StoreResult<Vec<Statement>> {
        let query = sqlx::query_as::<_, StatementRow>("SELECT id, company_id, account_id, ingested_at, transaction_count, first_transaction_id,
                last_transaction_id, opening_balance, closing_balance
         FROM statements WHERE account_id = ? AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?",).bind(account.to_string()).bind(before.map(|b| b.to_string())).bind(before.map(|b| b.to_string())).bind(i64::from(limit));
        db::all(query, &self.reader).await
    }

    async fn statement_transactions(&self, s: &Statement) -> StoreResult<Vec<Transaction>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transactions
         WHERE account_id = ? AND id >= ? AND id <= ? AND platform_ingested = 1 ORDER BY id"
        );
        let query = sqlx::query_as::<_, TransactionRow>(&sql)
            .bind(s.account_id.to_string())
            .bind(s.first_transaction_id.to_string())
            .bind(s.last_transaction_id.to_string());
        db::all(query, &self.reader).await
    }

    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>> {
        let rows: Vec<(DbUuid, DbUuid)> = sqlx::query_as(
            "SELECT f.company_id, f.account_id FROM company_feeds f
         JOIN companies c ON c.id = f.company_id
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE c.platform = ? AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
           AND (a.last_synced_at IS NULL OR a.last_synced_at < ?)
         ORDER BY a.last_synced_at IS NOT NULL, a.last_synced_at, a.id LIMIT ?",
        )
        .bind(platform.as_str())
        .bind(time::to_db(synced_before))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(c, a)| (c.into_uuid().into(), a.into_uuid().into()))
            .collect())
    }
}
