//! The sandbox platforms' side of a feed: unlinking, ingesting as statements, and finding the
//! feeds due for a scheduled sync. How transactions fall into statements is the domain's
//! (`domain::statement::plan`).

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{self, Pending, Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform, Timestamp};
use bankfeeds_store::decode::{corrupt, count};
use bankfeeds_store::{NewEvent, PlatformFeedStore, StoreError, StoreResult};

use crate::accounts::{self, AccountRow, Key};
use crate::transactions::{self, TransactionRow, COLUMNS};
use crate::{connections, events, Backend, DbAmount, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct FeedConnection {
    connection_id: DbId,
}

/// The linked feed's account; with `lock`, its row stays locked until the transaction ends.
async fn linked<B: Backend>(
    conn: &mut impl Exec,
    company: CompanyId,
    account: BankFeedAccountId,
    lock: bool,
) -> StoreResult<Option<BankFeedAccount>> {
    let found: Option<FeedConnection> = conn
        .fetch_optional(
            Sql::new(
                "SELECT a.connection_id FROM company_feeds f
                 JOIN bank_feed_accounts a ON a.id = f.account_id
                 WHERE f.company_id = $1 AND f.account_id = $2 AND f.unlinked_at IS NULL
                   AND a.deleted_at IS NULL",
            )
            .bind(company.as_uuid())
            .bind(account.as_uuid()),
        )
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let connection = found.connection_id.0.into();
    accounts::find_live::<B>(conn, connection, Key::Id(account), lock).await
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    id: DbId,
    company_id: DbId,
    account_id: DbId,
    ingested_at: DbTime,
    transaction_count: DbInt,
    first_transaction_id: DbId,
    last_transaction_id: DbId,
    opening_balance: DbAmount,
    closing_balance: DbAmount,
}

impl TryFrom<StatementRow> for Statement {
    type Error = StoreError;

    fn try_from(r: StatementRow) -> StoreResult<Self> {
        Ok(Statement {
            id: r.id.0.into(),
            company_id: r.company_id.0.into(),
            account_id: r.account_id.0.into(),
            ingested_at: r.ingested_at.0,
            transaction_count: count(r.transaction_count.0, "statements.transaction_count")?,
            first_transaction_id: r.first_transaction_id.0.into(),
            last_transaction_id: r.last_transaction_id.0.into(),
            opening_balance: r.opening_balance.0,
            closing_balance: r.closing_balance.0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: DbId,
    amount: DbAmount,
}

#[derive(sqlx::FromRow)]
struct Closing {
    closing_balance: DbAmount,
}

#[derive(sqlx::FromRow)]
struct DueFeed {
    company_id: DbId,
    account_id: DbId,
}

#[async_trait::async_trait]
impl<B: Backend> PlatformFeedStore for SqlStore<B> {
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        let db = &self.0;
        let columns = accounts::COLUMNS
            .split(',')
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = $1 AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
         ORDER BY f.linked_at, a.id"
        );
        db.reader()
            .all::<AccountRow, _>(Sql::new(sql).bind(company.as_uuid()))
            .await
    }

    async fn get_company_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        let db = &self.0;
        linked::<B>(&mut db.reader(), company, account, false).await
    }

    async fn unlink_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let current = linked::<B>(&mut tx, company, account, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        // `NotFound` when another instance unlinked it while this one waited for the lock.
        tx.execute_found(
            Sql::new(
                "UPDATE company_feeds SET unlinked_at = $1
             WHERE company_id = $2 AND account_id = $3 AND unlinked_at IS NULL",
            )
            .bind(now)
            .bind(company.as_uuid())
            .bind(account.as_uuid()),
        )
        .await?;
        let platform = connections::platform_of(&mut tx, current.connection_id).await?;
        let state = bankfeeds_domain::link::unlinked_feed_state(&current, platform);
        let account = accounts::set_feed_state_in::<B>(&mut tx, account, &state, now).await?;
        tx.commit().await?;
        Ok(account)
    }

    /// The platform takes every not-yet-ingested transaction of the feed, in statements of at most
    /// `per_statement` transactions that continue the previous statement's closing balance.
    async fn ingest_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
        per_statement: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Statement>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        // Locked: a batch being applied to the account commits before or waits until this commits.
        let feed = linked::<B>(&mut tx, company, account, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let platform = connections::platform_of(&mut tx, feed.connection_id).await?;
        // History from before the start date the customer chose is not the platform's to take.
        let from = statement::imports_from(platform, feed.transaction_start_date);
        let mut take = Sql::new(if from.is_some() {
            "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $2
             WHERE account_id = $1 AND NOT platform_ingested AND posted_at >= $3
             RETURNING id, amount"
        } else {
            "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $2
             WHERE account_id = $1 AND NOT platform_ingested
             RETURNING id, amount"
        })
        .bind(account.as_uuid())
        .bind(now);
        if let Some(from) = from {
            take.push(from);
        }
        let rows: Vec<PendingRow> = tx.fetch_all(take).await?;
        let mut pending: Vec<Pending> = rows
            .into_iter()
            .map(|r| Pending {
                id: r.id.0.into(),
                amount: r.amount.0,
            })
            .collect();
        // Storage order (RETURNING gives none): ids compare as their bytes on both backends.
        pending.sort_by_key(|p| p.id);
        let previous: Option<Closing> = tx
            .fetch_optional(
                Sql::new(
                    "SELECT closing_balance FROM statements WHERE account_id = $1
                 ORDER BY id DESC LIMIT 1",
                )
                .bind(account.as_uuid()),
            )
            .await?;
        let statements = statement::plan(
            company,
            account,
            &pending,
            per_statement as usize,
            previous.map(|p| p.closing_balance.0),
            feed.current_balance.map(|b| b.as_decimal()),
            now,
        );
        for s in &statements {
            let transaction_count = i32::try_from(s.transaction_count)
                .map_err(|_| corrupt("statements.transaction_count"))?;
            tx.execute(
                Sql::new(
                    "INSERT INTO statements (id, company_id, account_id, ingested_at,
                     transaction_count, first_transaction_id, last_transaction_id,
                     opening_balance, closing_balance)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(s.id.as_uuid())
                .bind(company.as_uuid())
                .bind(account.as_uuid())
                .bind(now)
                .bind(transaction_count)
                .bind(s.first_transaction_id.as_uuid())
                .bind(s.last_transaction_id.as_uuid())
                .bind(s.opening_balance)
                .bind(s.closing_balance),
            )
            .await?;
        }
        transactions::touch_synced(&mut tx, account, now).await?;
        let event = NewEvent::account_synced(&feed, company, pending.len(), statements.len());
        events::append(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(statements)
    }

    async fn list_statements(
        &self,
        account: BankFeedAccountId,
        before: Option<StatementId>,
        limit: u32,
    ) -> StoreResult<Vec<Statement>> {
        let db = &self.0;
        db.reader()
            .all::<StatementRow, _>(
                Sql::new(
                    "SELECT id, company_id, account_id, ingested_at, transaction_count,
                     first_transaction_id, last_transaction_id, opening_balance, closing_balance
                 FROM statements WHERE account_id = $1 AND ($2 IS NULL OR id < $2)
                 ORDER BY id DESC LIMIT $3",
                )
                .bind(account.as_uuid())
                .bind(before.map(|b| b.as_uuid()))
                .bind(limit),
            )
            .await
    }

    async fn statement_transactions(&self, s: &Statement) -> StoreResult<Vec<Transaction>> {
        let db = &self.0;
        let sql = format!(
            "SELECT {COLUMNS} FROM transactions
         WHERE account_id = $1 AND id >= $2 AND id <= $3 AND platform_ingested ORDER BY id"
        );
        db.reader()
            .all::<TransactionRow, _>(
                Sql::new(sql)
                    .bind(s.account_id.as_uuid())
                    .bind(s.first_transaction_id.as_uuid())
                    .bind(s.last_transaction_id.as_uuid()),
            )
            .await
    }

    /// The platform's feeds not synced since `synced_before`, never-synced first.
    async fn list_feeds_due(
        &self,
        platform: Platform,
        synced_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(CompanyId, BankFeedAccountId)>> {
        let db = &self.0;
        let due: Vec<DueFeed> = db
            .reader()
            .fetch_all(
                Sql::new(
                    "SELECT f.company_id, f.account_id FROM company_feeds f
                 JOIN companies c ON c.id = f.company_id
                 JOIN bank_feed_accounts a ON a.id = f.account_id
                 WHERE c.platform = $1 AND f.unlinked_at IS NULL AND a.deleted_at IS NULL
                   AND (a.last_synced_at IS NULL OR a.last_synced_at < $2)
                 ORDER BY a.last_synced_at NULLS FIRST, a.id LIMIT $3",
                )
                .bind(platform.as_str())
                .bind(synced_before)
                .bind(limit),
            )
            .await?;
        Ok(due
            .into_iter()
            .map(|d| (d.company_id.0.into(), d.account_id.0.into()))
            .collect())
    }
}
