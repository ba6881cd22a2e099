//! Cutting a live feed's new transactions into statements: one database transaction with the
//! account's and the feed's rows locked, the balances decided by `domain::live::xero`, each
//! transaction marked with its statement so it is sent once.

use bankfeeds_domain::live::xero::{self, opening, Line};
use bankfeeds_domain::live::LiveStatementId;
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccountId, Timestamp};
use bankfeeds_store::{LiveFeed, LiveStatement, StatementRender, StoreError, StoreResult};
use rust_decimal::Decimal;

use super::statements::{StatementRow, COLUMNS};
use super::{FeedRow, FEED_COLUMNS};
use crate::exec::placeholders;
use crate::transactions::{TransactionRow, COLUMNS as TX_COLUMNS};
use crate::{Backend, DbAmount, DbInt, DbTime, Exec, Sql, Tx};

/// The account's transactions not yet in a statement (`$1` the account, `$2` its start date).
const UNSENT: &str = "FROM transactions WHERE account_id = $1 AND live_statement_id IS NULL
                       AND ($2 IS NULL OR posted_at >= $2)";

#[derive(sqlx::FromRow)]
struct AccountFacts {
    current_balance: Option<DbAmount>,
    transaction_start_date: Option<DbTime>,
}

#[derive(sqlx::FromRow)]
struct Last {
    end_balance: DbAmount,
}

#[derive(sqlx::FromRow)]
struct Unsent {
    amount: DbAmount,
}

#[derive(sqlx::FromRow)]
struct Numbered {
    position: Option<DbInt>,
}

pub async fn cut<B: Backend>(
    db: &B,
    account: BankFeedAccountId,
    max_transactions: u32,
    render: StatementRender<'_>,
    now: Timestamp,
) -> StoreResult<Vec<LiveStatement>> {
    let mut tx = db.write().await?;
    // The account's row first, locked as a batch locks it (and in the same order as every
    // other writer of both rows): a batch cannot commit between reading the balance and
    // reading the transactions, which on PostgreSQL each see their own snapshot; otherwise
    // the first statement could open at the balance before a batch less that batch's lines.
    let facts: AccountFacts = tx
        .fetch_optional(
            Sql::new(format!(
                "SELECT current_balance, transaction_start_date FROM bank_feed_accounts
                 WHERE id = $1 AND deleted_at IS NULL{}",
                B::DIALECT.for_update()
            ))
            .bind(account.as_uuid()),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let start = facts.transaction_start_date.map(|t| t.0);
    // The feed's row lock makes concurrent cuts of one account take turns.
    let feed: LiveFeed = tx
        .optional::<FeedRow, _>(
            Sql::new(format!(
                "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id = $1{}",
                B::DIALECT.for_update()
            ))
            .bind(account.as_uuid()),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    if !feed.state.delivers() || feed.feed_connection_id.is_none() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    // A rejected or withdrawn statement reached no one: the chain goes on from the last one
    // that did (their transactions are cut again after a restart or a new feed connection);
    // numbering goes on.
    let last: Option<Last> = tx
        .fetch_optional(
            Sql::new(
                "SELECT end_balance FROM live_statements
                 WHERE account_id = $1 AND status NOT IN ('rejected', 'withdrawn')
                 ORDER BY position DESC LIMIT 1",
            )
            .bind(account.as_uuid()),
        )
        .await?;
    let numbered: Option<Numbered> = tx
        .fetch_optional(
            Sql::new("SELECT MAX(position) AS position FROM live_statements WHERE account_id = $1")
                .bind(account.as_uuid()),
        )
        .await?;
    let transactions: Vec<Transaction> = tx
        .all::<TransactionRow, _>(
            Sql::new(format!("SELECT {TX_COLUMNS} {UNSENT} ORDER BY id LIMIT $3"))
                .bind(account.as_uuid())
                .bind(start)
                .bind(max_transactions),
        )
        .await?;
    let lines: Vec<Line> = transactions.iter().map(Line::of).collect();
    // Before the first statement, the FI's balance is after every unsent transaction, not
    // only the ones this cut takes: when the cap left some unread, they are summed too.
    let unsent: Decimal = if last.is_none() && lines.len() >= max_transactions as usize {
        tx.fetch_all::<Unsent>(
            Sql::new(format!("SELECT amount {UNSENT}"))
                .bind(account.as_uuid())
                .bind(start),
        )
        .await?
        .into_iter()
        .map(|r| r.amount.0)
        .sum()
    } else {
        lines.iter().map(|l| l.amount).sum()
    };
    let open = opening(
        last.map(|l| l.end_balance.0),
        facts.current_balance.map(|b| b.0),
        unsent,
    );
    let cuts = xero::cut(&lines, open);
    let mut position = numbered.and_then(|n| n.position).map_or(0, |p| p.0);
    let mut made = Vec::with_capacity(cuts.len());
    for c in &cuts {
        position += 1;
        let these = &transactions[c.lines.clone()];
        let id = LiveStatementId::new();
        let body = render(&feed, these, c);
        let saved = tx
            .one::<StatementRow, _>(
                Sql::new(format!(
                    "INSERT INTO live_statements (id, org_id, account_id, connection_id, position,
                         status, body, line_count, first_transaction_id, last_transaction_id,
                         start_balance, end_balance, attempts, due_at, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, 0, $12,
                         $12, $12)
                     RETURNING {COLUMNS}"
                ))
                .bind(id.as_uuid())
                .bind(feed.org_id.as_uuid())
                .bind(account.as_uuid())
                .bind(feed.connection_id.as_uuid())
                .bind(position)
                .bind(body)
                .bind(these.len() as i64)
                .bind(these[0].id.as_uuid())
                .bind(these[these.len() - 1].id.as_uuid())
                .bind(c.start_balance)
                .bind(c.end_balance)
                .bind(now),
            )
            .await?;
        let mut mark = Sql::new(format!(
            "UPDATE transactions SET live_statement_id = $1
             WHERE live_statement_id IS NULL AND id IN ({})",
            placeholders(2, these.len())
        ))
        .bind(id.as_uuid());
        for t in these {
            mark.push(t.id.as_uuid());
        }
        if tx.execute(mark).await? != these.len() as u64 {
            // Another cut took one of them: nothing of this one is kept.
            tx.rollback().await?;
            return Err(StoreError::Conflict("live_statement_transactions"));
        }
        made.push(saved);
    }
    tx.commit().await?;
    Ok(made)
}
