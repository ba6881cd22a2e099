//! The statements a platform ingested (`statements`): how a statement row reads, what the
//! platform already shows of a feed, and writing a new statement with the lines it holds.

use bankfeeds_domain::statement::{Shown, Statement};
use bankfeeds_domain::{BankFeedAccountId, TransactionId};
use bankfeeds_store::decode::{corrupt, count};
use bankfeeds_store::{StoreError, StoreResult};

use crate::exec::placeholders;
use crate::{DbAmount, DbId, DbInt, DbTime, Exec, Sql};

#[derive(sqlx::FromRow)]
pub(super) struct StatementRow {
    id: DbId,
    company_id: DbId,
    account_id: DbId,
    ingested_at: DbTime,
    transaction_count: DbInt,
    first_transaction_id: DbId,
    last_transaction_id: DbId,
    opening_balance: DbAmount,
    closing_balance: DbAmount,
    period_day: Option<String>,
    late: DbInt,
    reported_closing: Option<DbAmount>,
}

pub(super) const STATEMENT_COLUMNS: &str =
    "id, company_id, account_id, ingested_at, transaction_count,
    first_transaction_id, last_transaction_id, opening_balance, closing_balance, period_day, late,
    reported_closing";

impl TryFrom<StatementRow> for Statement {
    type Error = StoreError;

    fn try_from(r: StatementRow) -> StoreResult<Self> {
        Ok(Statement {
            id: r.id.0.into(),
            company_id: r.company_id.0.into(),
            account_id: r.account_id.0.into(),
            ingested_at: r.ingested_at.0,
            day: r
                .period_day
                .map(|d| d.parse().map_err(|_| corrupt("statements.period_day")))
                .transpose()?,
            late: r.late.0 != 0,
            transaction_count: count(r.transaction_count.0, "statements.transaction_count")?,
            first_transaction_id: r.first_transaction_id.0.into(),
            last_transaction_id: r.last_transaction_id.0.into(),
            opening_balance: r.opening_balance.0,
            closing_balance: r.closing_balance.0,
            reported_closing: r.reported_closing.map(|b| b.0),
        })
    }
}

#[derive(sqlx::FromRow)]
struct Through {
    through: Option<String>,
}

/// What the platform already shows of the feed: its newest statement's closing as the bank
/// gave it, and the newest posting day shown.
pub(super) async fn shown(conn: &mut impl Exec, account: BankFeedAccountId) -> StoreResult<Shown> {
    let newest: Option<StatementRow> = conn
        .fetch_optional(
            Sql::new(format!(
                "SELECT {STATEMENT_COLUMNS} FROM statements WHERE account_id = $1
                 ORDER BY id DESC LIMIT 1"
            ))
            .bind(account.as_uuid()),
        )
        .await?;
    let through: Through = conn
        .fetch_one(
            Sql::new("SELECT MAX(period_day) AS through FROM statements WHERE account_id = $1")
                .bind(account.as_uuid()),
        )
        .await?;
    Ok(Shown {
        closing: newest
            .map(Statement::try_from)
            .transpose()?
            .map(|s| s.bank_closing()),
        through: through
            .through
            .map(|d| d.parse().map_err(|_| corrupt("statements.period_day")))
            .transpose()?,
    })
}

pub(super) async fn insert_statement(tx: &mut impl Exec, s: &Statement) -> StoreResult<()> {
    let transaction_count =
        i32::try_from(s.transaction_count).map_err(|_| corrupt("statements.transaction_count"))?;
    tx.execute(
        Sql::new(
            "INSERT INTO statements (id, company_id, account_id, ingested_at,
             transaction_count, first_transaction_id, last_transaction_id,
             opening_balance, closing_balance, period_day, late, reported_closing)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(s.id.as_uuid())
        .bind(s.company_id.as_uuid())
        .bind(s.account_id.as_uuid())
        .bind(s.ingested_at)
        .bind(transaction_count)
        .bind(s.first_transaction_id.as_uuid())
        .bind(s.last_transaction_id.as_uuid())
        .bind(s.opening_balance)
        .bind(s.closing_balance)
        .bind(s.day.map(|d| d.to_string()))
        .bind(i32::from(s.late))
        .bind(s.reported_closing),
    )
    .await?;
    Ok(())
}

/// Records the statement each of its lines went into.
pub(super) async fn mark_lines(
    tx: &mut impl Exec,
    s: &Statement,
    ids: &[TransactionId],
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(format!(
        "UPDATE transactions SET platform_statement_id = $1
         WHERE account_id = $2 AND id IN ({})",
        placeholders(3, ids.len())
    ))
    .bind(s.id.as_uuid())
    .bind(s.account_id.as_uuid());
    for id in ids {
        sql.push(id.as_uuid());
    }
    tx.execute(sql).await?;
    Ok(())
}
