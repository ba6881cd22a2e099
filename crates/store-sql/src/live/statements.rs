//! The live statement queue (`cut.rs` fills it): claiming the head of each account's queue
//! under a lease (`SKIP LOCKED` on PostgreSQL, as `jobs/claim.rs`), recording what the
//! platform answered, withdrawing what a feed connection that goes never received, and
//! restarting a stopped feed.

use bankfeeds_domain::live::{
    check_restart, withdrawn_with_its_feed, LiveFeedState, LiveStatementId, LiveStatementStatus,
    RestartRefusal,
};
use bankfeeds_domain::{BankFeedAccountId, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{LiveFeed, LiveStatement, StatementUpdate, StoreError, StoreResult};

use super::{set_feed_state_in, FeedRow, FEED_COLUMNS};
use crate::exec::placeholders;
use crate::{Backend, DbAmount, DbId, DbInt, DbTime, Exec, Sql, Tx};

#[derive(sqlx::FromRow)]
pub(super) struct StatementRow {
    id: DbId,
    org_id: DbId,
    account_id: DbId,
    connection_id: DbId,
    position: DbInt,
    status: String,
    body: String,
    line_count: DbInt,
    first_transaction_id: DbId,
    last_transaction_id: DbId,
    start_balance: DbAmount,
    end_balance: DbAmount,
    platform_statement_id: Option<String>,
    error_code: Option<String>,
    attempts: DbInt,
    due_at: DbTime,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<StatementRow> for LiveStatement {
    type Error = StoreError;

    fn try_from(r: StatementRow) -> StoreResult<Self> {
        Ok(LiveStatement {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            account_id: r.account_id.0.into(),
            connection_id: r.connection_id.0.into(),
            position: r.position.0,
            status: known(
                LiveStatementStatus::parse(&r.status),
                "live_statements.status",
            )?,
            body: r.body,
            line_count: r.line_count.0,
            first_transaction_id: r.first_transaction_id.0.into(),
            last_transaction_id: r.last_transaction_id.0.into(),
            start_balance: r.start_balance.0,
            end_balance: r.end_balance.0,
            platform_statement_id: r.platform_statement_id,
            error_code: r.error_code,
            attempts: r.attempts.0,
            due_at: r.due_at.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

pub(super) const COLUMNS: &str = "id, org_id, account_id, connection_id, position, status, body,
    line_count, first_transaction_id, last_transaction_id, start_balance, end_balance,
    platform_statement_id, error_code, attempts, due_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Unfinished {
    id: DbId,
    status: String,
    attempts: DbInt,
}

/// Inside the caller's transaction, as `account`'s feed connection goes (its live feed removed,
/// or asking the platform for a new one): withdraws the statements `withdrawn_with_its_feed`
/// picks, which name that feed connection and reached no one, and frees their transactions
/// (with those of rejected statements, as a restart would) to be cut for the next feed. The
/// rows are locked first, so a claim racing this either took a statement already (it is
/// tried, and stays) or finds it withdrawn.
pub(crate) async fn withdraw_untried_in<B: Backend>(
    tx: &mut impl Exec,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<()> {
    let unfinished: Vec<Unfinished> = tx
        .fetch_all(
            Sql::new(format!(
                "SELECT id, status, attempts FROM live_statements
                 WHERE account_id = $1 AND status IN ('queued', 'sent'){}",
                B::DIALECT.for_update()
            ))
            .bind(account.as_uuid()),
        )
        .await?;
    let mut gone = Vec::new();
    for u in unfinished {
        let status = known(
            LiveStatementStatus::parse(&u.status),
            "live_statements.status",
        )?;
        if withdrawn_with_its_feed(status, u.attempts.0) {
            gone.push(u.id.0);
        }
    }
    if !gone.is_empty() {
        let mut withdraw = Sql::new(format!(
            "UPDATE live_statements SET status = $1, updated_at = $2 WHERE id IN ({})",
            placeholders(3, gone.len())
        ))
        .bind(LiveStatementStatus::Withdrawn.as_str())
        .bind(now);
        for id in &gone {
            withdraw.push(*id);
        }
        tx.execute(withdraw).await?;
    }
    free_unreached_in(tx, account).await?;
    Ok(())
}

/// Frees the transactions of `account`'s statements that reached no one (rejected, withdrawn)
/// to be cut into new statements: nothing is skipped. A restart does it for the same feed
/// connection; a new feed connection (`withdraw_untried_in`) for the next one.
async fn free_unreached_in(tx: &mut impl Exec, account: BankFeedAccountId) -> StoreResult<u64> {
    tx.execute(
        Sql::new(
            "UPDATE transactions SET live_statement_id = NULL
             WHERE account_id = $1 AND live_statement_id IN (
                 SELECT id FROM live_statements
                 WHERE account_id = $1 AND status IN ('rejected', 'withdrawn'))",
        )
        .bind(account.as_uuid()),
    )
    .await
}

/// Whether `s` may be claimed at `$1`: unfinished, due, not under an unexpired lease, its feed
/// active, and first among its account's unfinished statements.
const RUNNABLE: &str = "s.status IN ('queued', 'sent') AND s.due_at <= $1
    AND (s.lease_until IS NULL OR s.lease_until < $1)
    AND EXISTS (SELECT 1 FROM live_feeds f WHERE f.account_id = s.account_id AND f.state = 'active')
    AND NOT EXISTS (
        SELECT 1 FROM live_statements e
        WHERE e.account_id = s.account_id AND e.status IN ('queued', 'sent')
          AND e.position < s.position)";

pub async fn claim<B: Backend>(
    db: &B,
    holder: &str,
    lease_until: Timestamp,
    limit: u32,
    now: Timestamp,
) -> StoreResult<Vec<LiveStatement>> {
    // SQLite's one writer claims in one statement; on PostgreSQL the candidates are locked
    // `SKIP LOCKED` and the outer `WHERE` re-checks status and lease on the row as locked, so
    // two claimers never hold one statement.
    let sql = format!(
        "UPDATE live_statements SET lease_holder = $2, lease_until = $3,
             attempts = attempts + 1, updated_at = $1
         WHERE id IN (
             SELECT s.id FROM live_statements s WHERE {RUNNABLE}
             ORDER BY s.due_at, s.position LIMIT $4{})
           AND status IN ('queued', 'sent') AND (lease_until IS NULL OR lease_until < $1)
         RETURNING {COLUMNS}",
        B::DIALECT.skip_locked(Some("s"))
    );
    let mut tx = db.write().await?;
    let mut claimed: Vec<LiveStatement> = tx
        .all::<StatementRow, _>(
            Sql::new(sql)
                .bind(now)
                .bind(holder)
                .bind(lease_until)
                .bind(limit),
        )
        .await?;
    tx.commit().await?;
    claimed.sort_by_key(|s| (s.due_at, s.position));
    Ok(claimed)
}

#[derive(sqlx::FromRow)]
struct Recorded {
    account_id: DbId,
}

pub async fn record<B: Backend>(
    db: &B,
    id: LiveStatementId,
    holder: &str,
    update: &StatementUpdate,
    now: Timestamp,
) -> StoreResult<bool> {
    let (set, status, platform_id, code, due): (&str, _, _, _, _) = match update {
        StatementUpdate::Sent {
            platform_statement_id,
            poll_at,
        } => (
            "platform_statement_id = $4, due_at = $6",
            LiveStatementStatus::Sent,
            Some(platform_statement_id.as_str()),
            None,
            Some(*poll_at),
        ),
        StatementUpdate::Delivered {
            platform_statement_id,
        } => (
            "platform_statement_id = COALESCE($4, platform_statement_id)",
            LiveStatementStatus::Delivered,
            platform_statement_id.as_deref(),
            None,
            None,
        ),
        StatementUpdate::Rejected { code, .. } => (
            "error_code = $5",
            LiveStatementStatus::Rejected,
            None,
            Some(code.as_str()),
            None,
        ),
        // Keeps its status: a queued one is sent again, a sent one polled again.
        StatementUpdate::RetryAt(at) => (
            "due_at = $6",
            LiveStatementStatus::Queued,
            None,
            None,
            Some(*at),
        ),
    };
    let status_set = match update {
        StatementUpdate::RetryAt(_) => "status",
        _ => "$3",
    };
    let sql = format!(
        "UPDATE live_statements SET status = {status_set}, {set}, lease_holder = NULL,
             lease_until = NULL, updated_at = $7
         WHERE id = $1 AND lease_holder = $2 AND status IN ('queued', 'sent')
         RETURNING account_id"
    );
    let mut tx = db.write().await?;
    let recorded: Option<Recorded> = tx
        .fetch_optional(
            Sql::new(sql)
                .bind(id.as_uuid())
                .bind(holder)
                .bind(status.as_str())
                .bind(platform_id)
                .bind(code)
                .bind(due)
                .bind(now),
        )
        .await?;
    let Some(recorded) = recorded else {
        tx.rollback().await?;
        return Ok(false);
    };
    if let StatementUpdate::Rejected { code, detail } = update {
        set_feed_state_in(
            &mut tx,
            recorded.account_id.0.into(),
            LiveFeedState::Stopped,
            Some((code, detail.as_deref())),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn list<B: Backend>(
    db: &B,
    account: BankFeedAccountId,
) -> StoreResult<Vec<LiveStatement>> {
    db.reader()
        .all::<StatementRow, _>(
            Sql::new(format!(
                "SELECT {COLUMNS} FROM live_statements WHERE account_id = $1 ORDER BY position"
            ))
            .bind(account.as_uuid()),
        )
        .await
}

pub async fn restart<B: Backend>(
    db: &B,
    connection: bankfeeds_domain::ConnectionId,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<Result<LiveFeed, RestartRefusal>> {
    let mut tx = db.write().await?;
    let key = crate::accounts::Key::Id(account);
    if crate::accounts::find_live::<B>(&mut tx, connection, key, true)
        .await?
        .is_none()
    {
        tx.rollback().await?;
        return Err(StoreError::NotFound);
    }
    let feed: Option<LiveFeed> = tx
        .optional::<FeedRow, _>(
            Sql::new(format!(
                "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id = $1{}",
                B::DIALECT.for_update()
            ))
            .bind(account.as_uuid()),
        )
        .await?;
    if let Err(refusal) = check_restart(feed.as_ref().map(|f| f.state)) {
        tx.rollback().await?;
        return Ok(Err(refusal));
    }
    free_unreached_in(&mut tx, account).await?;
    set_feed_state_in(&mut tx, account, LiveFeedState::Active, None, now).await?;
    let restarted: LiveFeed = tx
        .one::<FeedRow, _>(
            Sql::new(format!(
                "SELECT {FEED_COLUMNS} FROM live_feeds WHERE account_id = $1"
            ))
            .bind(account.as_uuid()),
        )
        .await?;
    tx.commit().await?;
    Ok(Ok(restarted))
}
