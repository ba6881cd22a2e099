//! The sandbox platforms' side of a feed: unlinking, ingesting as statements, disconnected feeds
//! (the FI deleted the account; what was ingested stays), and finding the feeds due for a
//! scheduled sync. How transactions fall into statements is the domain's
//! (`domain::statement::plan`).

mod reported;
mod statements;

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{self, Pending, Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform, Timestamp};
use bankfeeds_store::{NewEvent, PlatformFeedStore, StoreError, StoreResult};
use rust_decimal::Decimal;

use self::reported::{breaks, reported};
use self::statements::{insert_statement, mark_lines, shown, StatementRow, STATEMENT_COLUMNS};
use crate::accounts::{self, AccountRow, Key};
use crate::transactions::{self, TransactionRow, COLUMNS};
use crate::{connections, events, Backend, DbAmount, DbId, DbTime, Exec, Sql, SqlStore, Tx};

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
struct PendingRow {
    id: DbId,
    amount: DbAmount,
    posted_at: DbTime,
}

/// Feeds the company linked and did not unlink, `deleted`: whose account is deleted, or live;
/// only `account` when given.
async fn company_feeds(
    conn: &mut impl Exec,
    company: CompanyId,
    account: Option<BankFeedAccountId>,
    deleted: bool,
) -> StoreResult<Vec<BankFeedAccount>> {
    let columns = accounts::COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let state = if deleted { "IS NOT NULL" } else { "IS NULL" };
    let sql = format!(
        "SELECT {columns} FROM company_feeds f
         JOIN bank_feed_accounts a ON a.id = f.account_id
         WHERE f.company_id = $1 AND f.unlinked_at IS NULL AND a.deleted_at {state}
           AND ($2 IS NULL OR a.id = $2)
         ORDER BY f.linked_at, a.id"
    );
    conn.all::<AccountRow, _>(
        Sql::new(sql)
            .bind(company.as_uuid())
            .bind(account.map(|a| a.as_uuid())),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct DueFeed {
    company_id: DbId,
    account_id: DbId,
}

#[async_trait::async_trait]
impl<B: Backend> PlatformFeedStore for SqlStore<B> {
    async fn list_company_feeds(&self, company: CompanyId) -> StoreResult<Vec<BankFeedAccount>> {
        company_feeds(&mut self.0.reader(), company, None, false).await
    }

    async fn list_disconnected_feeds(
        &self,
        company: CompanyId,
    ) -> StoreResult<Vec<BankFeedAccount>> {
        company_feeds(&mut self.0.reader(), company, None, true).await
    }

    async fn get_disconnected_feed(
        &self,
        company: CompanyId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<BankFeedAccount>> {
        Ok(
            company_feeds(&mut self.0.reader(), company, Some(account), true)
                .await?
                .pop(),
        )
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

    /// The platform takes every not-yet-ingested transaction of the feed, in statements by
    /// posting day of at most `per_statement` transactions (`domain::statement::plan`).
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
             RETURNING id, amount, posted_at"
        } else {
            "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $2
             WHERE account_id = $1 AND NOT platform_ingested
             RETURNING id, amount, posted_at"
        })
        .bind(account.as_uuid())
        .bind(now);
        if let Some(from) = from {
            take.push(from);
        }
        let rows: Vec<PendingRow> = tx.fetch_all(take).await?;
        let pending: Vec<Pending> = rows
            .into_iter()
            .map(|r| Pending {
                id: r.id.0.into(),
                amount: r.amount.0,
                posted_at: r.posted_at.0,
            })
            .collect();
        let shown = shown(&mut tx, account).await?;
        let breaks = match shown.closing {
            // Only the first statement opens from the FI's figures.
            None => breaks(&mut tx, account, &pending).await?,
            Some(_) => Decimal::ZERO,
        };
        let reported = reported(&mut tx, &feed, &pending, breaks).await?;
        let statements = statement::plan(
            company,
            account,
            &pending,
            per_statement as usize,
            shown,
            &reported,
            now,
        );
        // The statements hold the lines in this order, each its `transaction_count` of them.
        let mut lines = statement::in_statement_order(&pending).into_iter();
        for s in &statements {
            insert_statement(&mut tx, s).await?;
            let ids: Vec<_> = lines
                .by_ref()
                .take(s.transaction_count as usize)
                .map(|p| p.id)
                .collect();
            mark_lines(&mut tx, s, &ids).await?;
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
                Sql::new(format!(
                    "SELECT {STATEMENT_COLUMNS}
                 FROM statements WHERE account_id = $1 AND ($2 IS NULL OR id < $2)
                 ORDER BY id DESC LIMIT $3"
                ))
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
         WHERE account_id = $1 AND platform_statement_id = $2 ORDER BY id"
        );
        db.reader()
            .all::<TransactionRow, _>(
                Sql::new(sql)
                    .bind(s.account_id.as_uuid())
                    .bind(s.id.as_uuid()),
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
