//! Closed days (migration 0029) and the account's posting days, which the continuity report's
//! stale rule (`domain::continuity::gaps`) reads. Days are `YYYY-MM-DD` text in both engines.

use bankfeeds_domain::continuity::gaps::{ClosedDays, ClosedDaysId};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Timestamp};
use bankfeeds_store::{DeclaredClosed, StoreError, StoreResult};
use chrono::NaiveDate;

use crate::{Backend, DbId, DbTime, Dialect, Exec, Sql};

#[derive(sqlx::FromRow)]
struct ClosedRow {
    id: DbId,
    account_id: DbId,
    from_day: String,
    to_day: String,
    declared_at: DbTime,
}

fn day(s: &str, column: &'static str) -> StoreResult<NaiveDate> {
    s.parse()
        .map_err(|_| bankfeeds_store::decode::corrupt(column))
}

impl TryFrom<ClosedRow> for ClosedDays {
    type Error = StoreError;

    fn try_from(r: ClosedRow) -> StoreResult<Self> {
        Ok(ClosedDays {
            id: r.id.0.into(),
            bank_feed_account_id: r.account_id.0.into(),
            from: day(&r.from_day, "closed_days.from_day")?,
            to: day(&r.to_day, "closed_days.to_day")?,
            declared_at: r.declared_at.0,
        })
    }
}

const COLUMNS: &str = "id, account_id, from_day, to_day, declared_at";

/// The account's declared closed ranges, by `from`.
pub async fn closed_days(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
) -> StoreResult<Vec<ClosedDays>> {
    tx.all::<ClosedRow, _>(
        Sql::new(format!(
            "SELECT {COLUMNS} FROM closed_days WHERE account_id = $1 ORDER BY from_day, to_day"
        ))
        .bind(account.as_uuid()),
    )
    .await
}

/// The distinct UTC dates the account has transactions posted on, ascending; only within
/// `range` when given.
pub async fn posting_days<B: Backend>(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    range: Option<(NaiveDate, NaiveDate)>,
) -> StoreResult<Vec<NaiveDate>> {
    let day = match B::DIALECT {
        Dialect::Postgres => "to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        // Integer µs since the epoch, floored to whole seconds (also before 1970).
        Dialect::Sqlite => {
            "date((posted_at - (((posted_at % 1000000) + 1000000) % 1000000)) / 1000000, \
             'unixepoch')"
        }
    };
    let start =
        |d: NaiveDate| -> Timestamp { d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() };
    let (from, until) = match range {
        Some((f, t)) => (Some(start(f)), t.succ_opt().map(start)),
        None => (None, None),
    };
    let rows: Vec<(String,)> = tx
        .fetch_all(
            Sql::new(format!(
                "SELECT DISTINCT {day} AS d FROM transactions
                 WHERE account_id = $1 AND ($2 IS NULL OR posted_at >= $2)
                   AND ($3 IS NULL OR posted_at < $3)
                 ORDER BY d"
            ))
            .bind(account.as_uuid())
            .bind(from)
            .bind(until),
        )
        .await?;
    rows.iter()
        .map(|(d,)| self::day(d, "transactions.posted_at"))
        .collect()
}

/// Records `from..=to` as closed for `account` (locked by the caller) unless a transaction is
/// posted on one of its days; the same range declared again is answered with the stored one.
pub async fn declare<B: Backend>(
    tx: &mut impl Exec,
    account: &BankFeedAccount,
    from: NaiveDate,
    to: NaiveDate,
    now: Timestamp,
) -> StoreResult<DeclaredClosed> {
    let posted = posting_days::<B>(tx, account.id, Some((from, to))).await?;
    if !posted.is_empty() {
        return Ok(DeclaredClosed::HasPostings(posted));
    }
    let text = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let existing: Option<ClosedDays> = tx
        .optional::<ClosedRow, _>(
            Sql::new(format!(
                "SELECT {COLUMNS} FROM closed_days
                 WHERE account_id = $1 AND from_day = $2 AND to_day = $3"
            ))
            .bind(account.id.as_uuid())
            .bind(text(from))
            .bind(text(to)),
        )
        .await?;
    if let Some(found) = existing {
        return Ok(DeclaredClosed::Declared(found));
    }
    let declared = ClosedDays {
        id: ClosedDaysId::new(),
        bank_feed_account_id: account.id,
        from,
        to,
        declared_at: now,
    };
    tx.execute(
        Sql::new(
            "INSERT INTO closed_days (id, org_id, connection_id, account_id, from_day, to_day,
                 declared_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(declared.id.as_uuid())
        .bind(account.org_id.as_uuid())
        .bind(account.connection_id.as_uuid())
        .bind(account.id.as_uuid())
        .bind(text(from))
        .bind(text(to))
        .bind(now),
    )
    .await?;
    Ok(DeclaredClosed::Declared(declared))
}
