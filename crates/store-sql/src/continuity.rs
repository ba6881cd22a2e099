//! Balance continuity in SQL: the account's ledger (`bank_feed_accounts.unreported_amount` and
//! its last row of `balance_reports`), read and written inside `apply_batch`'s transaction by
//! both engines, and the `ContinuityStore` methods.

use bankfeeds_domain::batch::rules::start_of_utc_day;
use bankfeeds_domain::continuity::{
    acknowledge, Acknowledgement, BalanceCheck, BalanceReport, BalanceReportId, Ledger, Step,
};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, ConnectionId, JobId, Timestamp};
use bankfeeds_store::{
    AccountContinuity, Acknowledged, ContinuityStore, DeclaredClosed, EventKind, Idem, NewEvent,
    StoreError, StoreResult,
};

use crate::closed_days::{closed_days, declare, posting_days};

use crate::accounts::{find_live, Key};
use crate::{events, idempotency, Backend, DbAmount, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: DbId,
    account_id: DbId,
    job_id: DbId,
    seq: DbInt,
    balance_before: Option<DbAmount>,
    unreported_amount: DbAmount,
    batch_amount: DbAmount,
    expected: Option<DbAmount>,
    reported: DbAmount,
    difference: DbAmount,
    posted_through: Option<DbTime>,
    created_at: DbTime,
    acknowledged_at: Option<DbTime>,
    acknowledged_reason: Option<String>,
}

const COLUMNS: &str = "id, account_id, job_id, seq, balance_before, unreported_amount,
    batch_amount, expected, reported, difference, posted_through, created_at, acknowledged_at,
    acknowledged_reason";

impl TryFrom<ReportRow> for BalanceReport {
    type Error = StoreError;

    fn try_from(r: ReportRow) -> StoreResult<Self> {
        let acknowledgement = match (r.acknowledged_at, r.acknowledged_reason) {
            (Some(at), Some(reason)) => Some(Acknowledgement {
                reason,
                acknowledged_at: at.0,
            }),
            (None, None) => None,
            _ => {
                return Err(bankfeeds_store::decode::corrupt(
                    "balance_reports.acknowledged",
                ))
            }
        };
        Ok(BalanceReport {
            id: r.id.0.into(),
            bank_feed_account_id: r.account_id.0.into(),
            job_id: r.job_id.0.into(),
            seq: r.seq.0,
            check: BalanceCheck {
                balance_before: r.balance_before.map(|d| d.0),
                unreported_amount: r.unreported_amount.0,
                batch_amount: r.batch_amount.0,
                expected: r.expected.map(|d| d.0),
                reported: r.reported.0,
                difference: r.difference.0,
            },
            posted_through: r.posted_through.map(|t| t.0),
            created_at: r.created_at.0,
            acknowledgement,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LedgerRow {
    unreported_amount: DbAmount,
    last_reported: Option<DbAmount>,
}

/// The account's ledger, read in the caller's transaction (or snapshot) beside the rest of a
/// batch's facts.
pub async fn load_ledger(tx: &mut impl Exec, account: BankFeedAccountId) -> StoreResult<Ledger> {
    let row: LedgerRow = tx
        .fetch_one(
            Sql::new(
                "SELECT a.unreported_amount,
                    (SELECT r.reported FROM balance_reports r WHERE r.account_id = a.id
                     ORDER BY r.seq DESC LIMIT 1) AS last_reported
                 FROM bank_feed_accounts a WHERE a.id = $1",
            )
            .bind(account.as_uuid()),
        )
        .await?;
    Ok(Ledger {
        last_reported: row.last_reported.map(|d| d.0),
        unreported: row.unreported_amount.0,
    })
}

/// Writes what a batch's `step` says, in the batch's transaction: the account's new ledger,
/// the report (numbered after the account's last) and, for a break, the event.
/// `posted_through` is the account's newest posting date after the batch.
pub async fn write_step(
    tx: &mut impl Exec,
    account: &BankFeedAccount,
    job: JobId,
    before: Ledger,
    step: &Step,
    posted_through: Option<Timestamp>,
    now: Timestamp,
) -> StoreResult<()> {
    if step.after.unreported != before.unreported {
        tx.execute(
            Sql::new("UPDATE bank_feed_accounts SET unreported_amount = $1 WHERE id = $2")
                .bind(step.after.unreported)
                .bind(account.id.as_uuid()),
        )
        .await?;
    }
    let Some(check) = step.check else {
        return Ok(());
    };
    let id = BalanceReportId::new();
    let seq: DbInt = tx
        .fetch_one::<(DbInt,)>(
            Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM balance_reports WHERE account_id = $1")
                .bind(account.id.as_uuid()),
        )
        .await?
        .0;
    let lines_on_day = match posted_through {
        Some(through) => Some(lines_on_day(tx, account.id, through).await?),
        None => None,
    };
    tx.execute(
        Sql::new(
            "INSERT INTO balance_reports (id, org_id, connection_id, account_id, job_id, seq,
                 balance_before, unreported_amount, batch_amount, expected, reported, difference,
                 is_break, posted_through, created_at, lines_on_day)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id.as_uuid())
        .bind(account.org_id.as_uuid())
        .bind(account.connection_id.as_uuid())
        .bind(account.id.as_uuid())
        .bind(job.as_uuid())
        .bind(seq.0)
        .bind(check.balance_before)
        .bind(check.unreported_amount)
        .bind(check.batch_amount)
        .bind(check.expected)
        .bind(check.reported)
        .bind(check.difference)
        .bind(check.is_break())
        .bind(posted_through)
        .bind(now)
        .bind(lines_on_day),
    )
    .await?;
    if check.is_break() {
        let report = BalanceReport {
            id,
            bank_feed_account_id: account.id,
            job_id: job,
            seq: seq.0,
            check,
            posted_through,
            created_at: now,
            acknowledgement: None,
        };
        let event = NewEvent::balance(EventKind::BalanceMismatch, account, &report);
        events::append(tx, &event, now).await?;
    }
    Ok(())
}

/// How many of the account's transactions are posted on `through`'s UTC day or later (the
/// newest day: nothing is posted after it), for `domain::statement_close`.
async fn lines_on_day(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    through: Timestamp,
) -> StoreResult<i64> {
    let (count,): (DbInt,) = tx
        .fetch_one(
            Sql::new("SELECT COUNT(*) FROM transactions WHERE account_id = $1 AND posted_at >= $2")
                .bind(account.as_uuid())
                .bind(start_of_utc_day(through)),
        )
        .await?;
    Ok(count.0)
}

#[async_trait::async_trait]
impl<B: Backend> ContinuityStore for SqlStore<B> {
    async fn feed_days(
        &self,
        org: bankfeeds_domain::OrgId,
        since: chrono::NaiveDate,
    ) -> StoreResult<Vec<bankfeeds_domain::console::FeedDays>> {
        crate::closed_days::feed_days::<B>(&mut self.0.reader(), org, since).await
    }

    async fn continuity(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
    ) -> StoreResult<Option<AccountContinuity>> {
        // One snapshot: the ledger, the reports and the posting days are compared.
        let mut tx = self.0.snapshot().await?;
        let found = read::<B>(&mut tx, connection, account).await?;
        tx.rollback().await?;
        Ok(found)
    }

    async fn declare_closed_days(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        now: Timestamp,
    ) -> StoreResult<DeclaredClosed> {
        let mut tx = self.0.write().await?;
        // Locked: a batch posting on the range waits for the declaration, or is seen by it.
        let Some(account) = find_live::<B>(&mut tx, connection, Key::Id(account), true).await?
        else {
            return Ok(DeclaredClosed::NotFound);
        };
        let done = declare::<B>(&mut tx, &account, from, to, now).await?;
        if matches!(done, DeclaredClosed::Declared(_)) {
            tx.commit().await?;
        }
        Ok(done)
    }

    async fn acknowledge_break(
        &self,
        connection: ConnectionId,
        account: BankFeedAccountId,
        report: BalanceReportId,
        reason: &str,
        now: Timestamp,
        idem: Option<Idem<'_, BalanceReport>>,
    ) -> StoreResult<Acknowledged> {
        let mut tx = self.0.write().await?;
        // Dropping `tx` without committing (a refusal) also releases the key claimed here.
        if let Some(saved) = idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Acknowledged::Replayed(saved));
        }
        let Some(account) = find_live::<B>(&mut tx, connection, Key::Id(account), false).await?
        else {
            return Ok(Acknowledged::NotFound);
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM balance_reports WHERE id = $1 AND account_id = $2{}",
            B::DIALECT.for_update()
        );
        let found: Option<BalanceReport> = tx
            .optional::<ReportRow, _>(
                Sql::new(sql)
                    .bind(report.as_uuid())
                    .bind(account.id.as_uuid()),
            )
            .await?;
        let Some(mut found) = found else {
            return Ok(Acknowledged::NotFound);
        };
        if let Err(refusal) = acknowledge(&found, reason) {
            return Ok(Acknowledged::Refused(refusal));
        }
        let reason = reason.trim().to_owned();
        tx.execute(
            Sql::new(
                "UPDATE balance_reports SET acknowledged_at = $1, acknowledged_reason = $2
                 WHERE id = $3",
            )
            .bind(now)
            .bind(&reason)
            .bind(found.id.as_uuid()),
        )
        .await?;
        found.acknowledgement = Some(Acknowledgement {
            reason,
            acknowledged_at: now,
        });
        let event = NewEvent::balance(EventKind::BalanceBreakAcknowledged, &account, &found);
        events::append(&mut tx, &event, now).await?;
        idempotency::finish(&mut tx, idem, &found).await?;
        tx.commit().await?;
        Ok(Acknowledged::Done(found))
    }
}

/// The account, its ledger and the reports the summary needs. Read outside a transaction: a
/// batch applied in between adds a report after the ones read, which the next read shows.
async fn read<B: Backend>(
    tx: &mut impl Exec,
    connection: ConnectionId,
    account: BankFeedAccountId,
) -> StoreResult<Option<AccountContinuity>> {
    let Some(account) = find_live::<B>(tx, connection, Key::Id(account), false).await? else {
        return Ok(None);
    };
    let ledger = load_ledger(tx, account.id).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM balance_reports r WHERE r.account_id = $1 AND (
             r.seq = 1 OR r.is_break
             OR r.seq = (SELECT MAX(m.seq) FROM balance_reports m WHERE m.account_id = $1)
             OR EXISTS (SELECT 1 FROM balance_reports n
                        WHERE n.account_id = $1 AND n.seq = r.seq + 1 AND n.is_break))
         ORDER BY r.seq"
    );
    let reports = tx
        .all::<ReportRow, _>(Sql::new(sql).bind(account.id.as_uuid()))
        .await?;
    let posting_days = posting_days::<B>(tx, account.id, None).await?;
    let closed_days = closed_days(tx, account.id).await?;
    Ok(Some(AccountContinuity {
        account,
        ledger,
        reports,
        posting_days,
        closed_days,
    }))
}
