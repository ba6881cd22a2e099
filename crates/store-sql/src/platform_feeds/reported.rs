//! What the FI reported about a feed's balance (`balance_reports`), as the statements a platform
//! ingests need it: the closing of each pending day and the breaks continuity recorded.

use std::collections::{BTreeMap, BTreeSet};

use bankfeeds_domain::batch::rules::start_of_utc_day;
use bankfeeds_domain::statement::{Pending, Reported};
use bankfeeds_domain::statement_close::{bank_closings, DayReport};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId};
use bankfeeds_store::decode::count;
use bankfeeds_store::StoreResult;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{DbAmount, DbInt, DbTime, Exec, Sql};

#[derive(sqlx::FromRow)]
struct BreakRow {
    difference: DbAmount,
}

/// The sum of the differences of the breaks continuity recorded for the account on the days of
/// the `pending` lines or later. A break whose batch ended before the first of them fell on
/// days before the platform's window, in no statement it shows: the opening absorbs it.
pub(super) async fn breaks(
    conn: &mut impl Exec,
    account: BankFeedAccountId,
    pending: &[Pending],
) -> StoreResult<Decimal> {
    let Some(first) = pending.iter().map(|p| p.posted_at).min() else {
        return Ok(Decimal::ZERO);
    };
    let rows: Vec<BreakRow> = conn
        .fetch_all(
            Sql::new(
                "SELECT difference FROM balance_reports
                 WHERE account_id = $1 AND is_break AND posted_through >= $2",
            )
            .bind(account.as_uuid())
            .bind(start_of_utc_day(first)),
        )
        .await?;
    Ok(rows.iter().map(|r| r.difference.0).sum())
}

#[derive(sqlx::FromRow)]
struct PostedRow {
    posted_at: DbTime,
}

#[derive(sqlx::FromRow)]
struct DayReportRow {
    reported: DbAmount,
    posted_through: DbTime,
    lines_on_day: Option<DbInt>,
}

/// What the FI said about the balance of the feed's `pending` lines: its last reported balance
/// and what was stored after it, the `breaks`, and the bank's closing of each pending day a
/// report closes (`domain::statement_close`).
pub(super) async fn reported(
    conn: &mut impl Exec,
    feed: &BankFeedAccount,
    pending: &[Pending],
    breaks: Decimal,
) -> StoreResult<Reported> {
    let ledger = crate::continuity::load_ledger(conn, feed.id).await?;
    let mut reported = Reported {
        current: ledger
            .last_reported
            .or(feed.current_balance.map(|b| b.as_decimal())),
        unreported: match ledger.last_reported {
            Some(_) => ledger.unreported,
            None => Decimal::ZERO,
        },
        breaks,
        closings: BTreeMap::new(),
    };
    let Some(first) = pending.iter().map(|p| p.posted_at).min() else {
        return Ok(reported);
    };
    let from = start_of_utc_day(first);
    let days: BTreeSet<NaiveDate> = pending.iter().map(|p| p.posted_at.date_naive()).collect();
    // Every line of those days, ingested or not: what each day holds now.
    let posted: Vec<PostedRow> = conn
        .fetch_all(
            Sql::new(
                "SELECT posted_at FROM transactions WHERE account_id = $1 AND posted_at >= $2",
            )
            .bind(feed.id.as_uuid())
            .bind(from),
        )
        .await?;
    let mut lines_now: BTreeMap<NaiveDate, u32> = days.iter().map(|d| (*d, 0)).collect();
    for row in posted {
        if let Some(n) = lines_now.get_mut(&row.posted_at.0.date_naive()) {
            *n += 1;
        }
    }
    let rows: Vec<DayReportRow> = conn
        .fetch_all(
            Sql::new(
                "SELECT reported, posted_through, lines_on_day FROM balance_reports
                 WHERE account_id = $1 AND posted_through >= $2 ORDER BY seq",
            )
            .bind(feed.id.as_uuid())
            .bind(from),
        )
        .await?;
    let reports = rows
        .into_iter()
        .map(|r| {
            Ok(DayReport {
                reported: r.reported.0,
                posted_through: r.posted_through.0.date_naive(),
                lines_on_day: r
                    .lines_on_day
                    .map(|n| count(n.0, "balance_reports.lines_on_day"))
                    .transpose()?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    reported.closings = bank_closings(&reports, &lines_now);
    Ok(reported)
}
