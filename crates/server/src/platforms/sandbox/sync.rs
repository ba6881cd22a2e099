//! How the sandbox platforms ingest: QuickBooks pulls when the customer opens a feed's page and
//! once a day; the others on their own schedule, or when the customer clicks "sync now". Each
//! takes what its profile allows per statement (Sage: 100).
//!
//! The schedule runs on every hub instance; the store makes a sync of one feed a single
//! database transaction that takes each transaction once, so instances never double-ingest.

use std::time::Duration;

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::statement::{self, Statement, StatementId};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Platform};
use bankfeeds_store::StoreResult;
use rust_decimal::Decimal;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Whether opening a feed's page makes the platform pull (QuickBooks does).
pub fn pulls_on_open(platform: Platform) -> bool {
    platform == Platform::IntuitBankFeeds
}

/// Whether the platform links with bank feed credentials the bank generated (QuickBooks, as
/// Codat's QuickBooks Online Bank Feeds integration works), besides the redirect flow.
pub fn takes_credentials(platform: Platform) -> bool {
    platform == Platform::IntuitBankFeeds
}

/// The platform ingests one linked feed now.
pub async fn sync_feed(
    state: &AppState,
    platform: Platform,
    company: CompanyId,
    account: BankFeedAccountId,
) -> StoreResult<Vec<Statement>> {
    let per_statement = PlatformProfile::for_platform(platform, Door::Rutter).ingest_chunk;
    let statements = state
        .store
        .ingest_feed(company, account, per_statement as u32, state.clock.now())
        .await?;
    let taken: u32 = statements.iter().map(|s| s.transaction_count).sum();
    let waited = match statements.first() {
        Some(first) => oldest_wait(state, first).await?,
        None => None,
    };
    state
        .metrics
        .record_ingested(platform, u64::from(taken), waited);
    tracing::info!(
        platform = platform.as_str(),
        %company,
        bank_feed_account_id = %account,
        transactions = taken,
        statements = statements.len(),
        "sandbox platform ingested a feed"
    );
    Ok(statements)
}

/// How long the oldest line a sync took waited between its push and the platform, in seconds.
/// Lines arrive in posting-day order (`OLDER_THAN_STORED`) and a sync's first statement holds
/// its oldest day's first lines, so the oldest push is among them.
async fn oldest_wait(state: &AppState, first: &Statement) -> StoreResult<Option<f64>> {
    let lines = state.store.statement_transactions(first).await?;
    Ok(lines
        .iter()
        .map(|t| t.created_at)
        .min()
        .map(|pushed| crate::metrics::seconds_between(pushed, first.ingested_at)))
}

/// Syncs every feed that is due on every platform; returns how many feeds were synced.
pub async fn run_due(state: &AppState) -> StoreResult<usize> {
    const BATCH: u32 = 100;
    let mut synced = 0;
    for platform in Platform::LINKED {
        let before = state.clock.now() - state.sandbox_sync.interval(platform);
        loop {
            let due = state.store.list_feeds_due(platform, before, BATCH).await?;
            for (company, account) in &due {
                match sync_feed(state, platform, *company, *account).await {
                    Ok(_) => synced += 1,
                    // Unlinked or deleted since it was listed: nothing to do.
                    Err(bankfeeds_store::StoreError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            if (due.len() as u32) < BATCH {
                break;
            }
        }
    }
    Ok(synced)
}

/// Runs the schedule until `stop`: looks for due feeds every `tick`.
pub fn spawn(state: AppState, tick: Duration, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_due(&state).await {
                tracing::warn!(error = %e, "scheduled sandbox sync failed; will retry");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    })
}

/// One statement as a platform shows it: its transactions with the running balance.
pub struct StatementView {
    pub statement: Statement,
    pub rows: Vec<(Transaction, Decimal)>,
}

/// A feed as the platform shows it: the newest statements first (older ones from `before`).
pub struct FeedView {
    pub account: BankFeedAccount,
    /// The FI deleted the account: what was ingested is shown, nothing more is synced.
    pub disconnected: bool,
    pub statements: Vec<StatementView>,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<StatementId>,
}

pub async fn feed_view(
    state: &AppState,
    account: BankFeedAccount,
    disconnected: bool,
    before: Option<StatementId>,
    max_statements: u32,
) -> StoreResult<FeedView> {
    let mut listed = state
        .store
        .list_statements(account.id, before, max_statements + 1)
        .await?;
    let older = if listed.len() > max_statements as usize {
        listed.truncate(max_statements as usize);
        listed.last().map(|s| s.id)
    } else {
        None
    };
    let mut statements = Vec::with_capacity(listed.len());
    for s in listed {
        let transactions = state.store.statement_transactions(&s).await?;
        let balances = statement::running_balances(
            s.opening_balance,
            transactions.iter().map(|t| t.data.amount.as_decimal()),
        );
        statements.push(StatementView {
            rows: transactions.into_iter().zip(balances).collect(),
            statement: s,
        });
    }
    Ok(FeedView {
        account,
        disconnected,
        statements,
        older,
    })
}
