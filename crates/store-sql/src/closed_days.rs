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

/// `ContinuityStore::feed_days`: three statements over the window (posting days, whether each
/// feed posted before it, closed ranges), merged per feed in the organisation's feed order.
pub async fn feed_days<B: Backend>(
    db: &mut impl Exec,
    org: bankfeeds_domain::OrgId,
    since: NaiveDate,
) -> StoreResult<Vec<bankfeeds_domain::console::FeedDays>> {
    use bankfeeds_domain::console::FeedDays;
    let day_sql = match B::DIALECT {
        Dialect::Postgres => "to_char(t.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        Dialect::Sqlite => {
            "date((t.posted_at - (((t.posted_at % 1000000) + 1000000) % 1000000)) / 1000000, \
             'unixepoch')"
        }
    };
    let start: Timestamp = since.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let live = "SELECT a.id FROM bank_feed_accounts a JOIN connections c ON c.id = a.connection_id
                WHERE a.org_id = $1 AND a.deleted_at IS NULL AND c.deleted_at IS NULL";
    #[derive(sqlx::FromRow)]
    struct Feed {
        id: DbId,
        posted_before: bool,
    }
    let feeds: Vec<Feed> = db
        .fetch_all(
            Sql::new(format!(
                "SELECT a.id, EXISTS (SELECT 1 FROM transactions t
                     WHERE t.account_id = a.id AND t.posted_at < $2) AS posted_before
                 FROM bank_feed_accounts a WHERE a.id IN ({live}) ORDER BY a.id"
            ))
            .bind(org.as_uuid())
            .bind(start),
        )
        .await?;
    #[derive(sqlx::FromRow)]
    struct Posted {
        account_id: DbId,
        d: String,
    }
    let posted: Vec<Posted> = db
        .fetch_all(
            Sql::new(format!(
                "SELECT DISTINCT t.account_id, {day_sql} AS d FROM transactions t
                 WHERE t.account_id IN ({live}) AND t.posted_at >= $2"
            ))
            .bind(org.as_uuid())
            .bind(start),
        )
        .await?;
    #[derive(sqlx::FromRow)]
    struct Closed {
        account_id: DbId,
        from_day: String,
        to_day: String,
    }
    let closed: Vec<Closed> = db
        .fetch_all(
            Sql::new(format!(
                "SELECT account_id, from_day, to_day FROM closed_days
                 WHERE account_id IN ({live}) AND to_day >= $2"
            ))
            .bind(org.as_uuid())
            .bind(since.to_string()),
        )
        .await?;
    let mut out: Vec<(uuid::Uuid, FeedDays)> = feeds
        .into_iter()
        .map(|f| {
            (
                f.id.0,
                FeedDays {
                    posted_before: f.posted_before,
                    ..FeedDays::default()
                },
            )
        })
        .collect();
    let find = |out: &mut Vec<(uuid::Uuid, FeedDays)>, id: uuid::Uuid| {
        out.binary_search_by(|(k, _)| k.cmp(&id)).ok()
    };
    for p in posted {
        if let Some(i) = find(&mut out, p.account_id.0) {
            out[i]
                .1
                .posting_days
                .push(day(&p.d, "transactions.posted_at")?);
        }
    }
    for c in closed {
        if let Some(i) = find(&mut out, c.account_id.0) {
            let range = (
                day(&c.from_day, "closed_days.from_day")?,
                day(&c.to_day, "closed_days.to_day")?,
            );
            out[i].1.closed.push(range);
        }
    }
    Ok(out.into_iter().map(|(_, f)| f).collect())
}
