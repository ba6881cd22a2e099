//! The sandbox platforms' side of a feed on PostgreSQL: unlinking, ingesting as statements, and
//! finding the feeds due for a scheduled sync.
//!
//! Several hub instances may sync one feed at once. Ingesting locks the account's row first, so
//! syncs of one feed take turns, and marks the rows with one `UPDATE … RETURNING`, so the
//! statements hold exactly the rows it marked even while a batch commits alongside.

use async_trait::async_trait;

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{self, Pending, Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform, Timestamp};
use bankfeeds_store::decode::{corrupt, count, parse};
use bankfeeds_store::{NewEvent, StoreError, StoreResult};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::accounts::{self, AccountRow, Key};
use crate::transactions::{TransactionRow, COLUMNS};
use crate::PostgresStore;
use crate::{db, events, map_err};

/// The linked feed's account; with `lock`, its row stays locked until the transaction ends.
async fn linked(
    conn: &mut PgConnection,
    company: CompanyId,
    account: BankFeedAccountId,
    lock: bool,
) -> StoreResult<Option<BankFeedAccount>> {
    let connection: Option<Uuid> = sqlx::query_scalar(
        "SELECT a.connection_id FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = $1 AND f.account_id = $2 AND f.unlinked_at IS NULL
           AND a.deleted_at IS NULL",
    )
    .bind(company.as_uuid())
    .bind(account.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some(connection) = connection else {
        return Ok(None);
    };
    accounts::find_live(conn, connection.into(), Key::Id(account), lock).await
}

#[derive(FromRow)]
struct StatementRow {
    id: Uuid,
    company_id: Uuid,
    account_id: Uuid,
    ingested_at: Timestamp,
    transaction_count: i32,
    first_transaction_id: Uuid,
    last_transaction_id: Uuid,
    opening_balance: String,
    closing_balance: String,
}

impl TryFrom<StatementRow> for Statement {
    type Error = StoreError;

    fn try_from(r: StatementRow) -> StoreResult<Self> {
        Ok(Statement {
            id: r.id.into(),
            company_id: r.company_id.into(),
            account_id: r.account_id.into(),
            ingested_at: r.ingested_at,
            transaction_count: count(r.transaction_count.into(), "statements.transaction_count")?,
            first_transaction_id: r.first_transaction_id.into(),
            last_transaction_id: r.last_transaction_id.into(),
            opening_balance: parse(&r.opening_balance, "statements.opening_balance")?,
            closing_balance: parse(&r.closing_balance, "statements.closing_balance")?,
        })
    }
}

#[async_trait]
impl bankfeeds_store::PlatformFeedStore for PostgresStore {
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        // UUIDs sort as their bytes, i.e. as SQLite sorts their lower-case text.
        let sql = format!(
            "SELECT {} FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = $1 AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
         ORDER BY f.linked_at, a.id",
            accounts::COLUMNS
        );
        let query = sqlx::query_as::<_, AccountRow>(&sql).bind(company.as_uuid());
        db::all(query, &self.pool).await
    }

    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        linked(&mut conn, company, account, false).await
    }

    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let current = linked(&mut tx, company, account, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        // `NotFound` when another instance unlinked it while this one waited for the lock.
        db::execute_found(
            sqlx::query(
                "UPDATE company_feeds SET unlinked_at = $1
                 WHERE company_id = $2 AND account_id = $3 AND unlinked_at IS NULL",
            )
            .bind(now)
            .bind(company.as_uuid())
            .bind(account.as_uuid()),
            &mut *tx,
        )
        .await?;
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let feed = linked(&mut tx, company, account, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "UPDATE transactions SET platform_ingested = true, ingested_at = $2
         WHERE account_id = $1 AND platform_ingested = false
         RETURNING id, amount::text",
        )
        .bind(account.as_uuid())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut pending = rows
            .iter()
            .map(|(id, amount)| {
                Ok(Pending {
                    id: (*id).into(),
                    amount: parse(amount, "transactions.amount")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // Storage order: UUIDs compare as their bytes, as SQLite compares their text.
        pending.sort_by_key(|p| p.id);
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT closing_balance::text FROM statements WHERE account_id = $1
         ORDER BY id DESC LIMIT 1",
        )
        .bind(account.as_uuid())
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9::numeric)",
        )
        .bind(s.id.as_uuid())
        .bind(company.as_uuid())
        .bind(account.as_uuid())
        .bind(now)
        .bind(i32::try_from(s.transaction_count).map_err(|_| corrupt("statements.transaction_count"))?)
        .bind(s.first_transaction_id.as_uuid())
        .bind(s.last_transaction_id.as_uuid())
        .bind(s.opening_balance.to_string())
        .bind(s.closing_balance.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        }
        sqlx::query("UPDATE bank_feed_accounts SET last_synced_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
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
                last_transaction_id, opening_balance::text AS opening_balance,
                closing_balance::text AS closing_balance
         FROM statements WHERE account_id = $1 AND ($2::uuid IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3",).bind(account.as_uuid()).bind(before.map(|b| b.as_uuid())).bind(i64::from(limit));
        db::all(query, &self.pool).await
    }

    async fn statement_transactions(&self, s: &Statement) -> StoreResult<Vec<Transaction>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM transactions
         WHERE account_id = $1 AND id >= $2 AND id <= $3 AND platform_ingested ORDER BY id"
        );
        let query = sqlx::query_as::<_, TransactionRow>(&sql)
            .bind(s.account_id.as_uuid())
            .bind(s.first_transaction_id.as_uuid())
            .bind(s.last_transaction_id.as_uuid());
        db::all(query, &self.pool).await
    }

    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT f.company_id, f.account_id FROM company_feeds f
         JOIN companies c ON c.id = f.company_id
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE c.platform = $1 AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
           AND (a.last_synced_at IS NULL OR a.last_synced_at < $2)
         ORDER BY a.last_synced_at NULLS FIRST, a.id LIMIT $3",
        )
        .bind(platform.as_str())
        .bind(synced_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(c, a)| (c.into(), a.into()))
            .collect())
    }
}
