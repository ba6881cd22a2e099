//! A company's linked feeds through the JSON interface: the list (and the disconnected ones),
//! what the platform holds for one (statements by posting day, their balances and reconcile
//! status, running balances; the same as the feed's page), "sync now" and unlink.

use axum::extract::{Path, State};
use axum::Json as JsonOut;
use bankfeeds_domain::money::Money;
use bankfeeds_domain::statement::{Statement, StatementId};
use bankfeeds_domain::Currency;
use bankfeeds_domain::Timestamp;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::dto::{feeds, FeedAccountOut};
use super::platform;
use crate::http::error::ApiResult;
use crate::platforms::sandbox::{ops, sync};
use crate::state::AppState;

#[derive(Serialize)]
pub(super) struct FeedsOut {
    pub(super) bank_feed_accounts: Vec<FeedAccountOut>,
}

#[derive(Serialize)]
pub(super) struct CompanyFeedsOut {
    bank_feed_accounts: Vec<FeedAccountOut>,
    /// Feeds the FI deleted: what was ingested stays readable, nothing more is synced.
    disconnected_bank_feed_accounts: Vec<FeedAccountOut>,
}

/// The company's linked feeds.
pub(super) async fn list_feeds(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
) -> ApiResult<JsonOut<CompanyFeedsOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let shown = ops::company_feeds(&state, &company).await?;
    Ok(JsonOut(CompanyFeedsOut {
        bank_feed_accounts: feeds(shown.linked),
        disconnected_bank_feed_accounts: feeds(shown.disconnected),
    }))
}

#[derive(Serialize)]
pub(super) struct StatementOut {
    id: StatementId,
    /// The posting day the statement covers (null: cut by sync before statements were periods).
    date: Option<NaiveDate>,
    /// A later sync's lines for a day an earlier statement already showed.
    late: bool,
    ingested_at: Timestamp,
    transaction_count: u32,
    opening_balance: Money,
    /// Opening plus the lines.
    closing_balance: Money,
    /// The closing balance the FI reported, when it reported one for this statement.
    reported_closing_balance: Option<Money>,
    reconcile: ReconcileOut,
}

#[derive(Serialize)]
pub(super) struct ReconcileOut {
    /// `ties_out`, `difference` or `not_reported`.
    status: &'static str,
    /// `reported_closing_balance − closing_balance`, when they differ.
    difference: Option<Money>,
}

impl StatementOut {
    /// Money with the feed currency's minor units.
    fn new(s: &Statement, currency: Currency) -> Self {
        let reconcile = s.reconcile();
        Self {
            id: s.id,
            date: s.day,
            late: s.late,
            ingested_at: s.ingested_at,
            transaction_count: s.transaction_count,
            opening_balance: Money::new(s.opening_balance, currency),
            closing_balance: Money::new(s.closing_balance, currency),
            reported_closing_balance: s.reported_closing.map(|b| Money::new(b, currency)),
            reconcile: ReconcileOut {
                status: reconcile.as_str(),
                difference: reconcile.difference().map(|d| Money::new(d, currency)),
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct IngestedOut {
    id: bankfeeds_domain::TransactionId,
    transaction_id: String,
    posted_at: Timestamp,
    amount: Money,
    description: Option<String>,
    payee: Option<String>,
    /// The platform's running balance after this transaction.
    balance: Money,
}

#[derive(Serialize)]
pub(super) struct StatementWithRowsOut {
    #[serde(flatten)]
    statement: StatementOut,
    transactions: Vec<IngestedOut>,
}

#[derive(Serialize)]
pub(super) struct FeedOut {
    bank_feed_account: FeedAccountOut,
    /// The FI deleted the account: what was ingested stays, nothing more is synced.
    disconnected: bool,
    /// Newest first.
    statements: Vec<StatementWithRowsOut>,
    /// Pass as `before` for older statements.
    next_before: Option<StatementId>,
}

#[derive(Deserialize)]
pub(super) struct FeedQuery {
    before: Option<StatementId>,
}

/// What the platform holds for a feed: its statements (newest first), each with its
/// transactions and running balance. Reading does not sync; `…/sync` does.
pub(super) async fn get_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<FeedQuery>,
) -> ApiResult<JsonOut<FeedOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let shown = ops::shown_feed(&state, &company, &account).await?;
    let view = sync::feed_view(&state, shown.account, shown.disconnected, query.before, 20).await?;
    let currency = view.account.currency;
    Ok(JsonOut(FeedOut {
        disconnected: view.disconnected,
        bank_feed_account: view.account.into(),
        statements: view
            .statements
            .iter()
            .map(|s| StatementWithRowsOut {
                statement: StatementOut::new(&s.statement, currency),
                transactions: s
                    .rows
                    .iter()
                    .map(|(t, balance)| IngestedOut {
                        id: t.id,
                        transaction_id: t.data.transaction_id.clone(),
                        posted_at: t.data.posted_at,
                        amount: Money::new(t.data.amount.as_decimal(), currency),
                        description: t.data.description.clone(),
                        payee: t.data.payee.clone(),
                        balance: Money::new(*balance, currency),
                    })
                    .collect(),
            })
            .collect(),
        next_before: view.older,
    }))
}

#[derive(Serialize)]
pub(super) struct SyncOut {
    /// The statements this sync created (none when nothing was new).
    statements: Vec<StatementOut>,
    transactions_ingested: u32,
    bank_feed_account: FeedAccountOut,
}

/// "Sync now": the platform ingests the feed.
pub(super) async fn sync_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
) -> ApiResult<JsonOut<SyncOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    let statements = sync::sync_feed(&state, platform, company.id, feed.id).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    Ok(JsonOut(SyncOut {
        transactions_ingested: statements.iter().map(|s| s.transaction_count).sum(),
        statements: statements
            .iter()
            .map(|s| StatementOut::new(s, feed.currency))
            .collect(),
        bank_feed_account: feed.into(),
    }))
}

#[derive(Serialize)]
pub(super) struct AccountEnvelopeOut {
    bank_feed_account: FeedAccountOut,
}

/// The customer unlinks a feed: it becomes inactive and the platform stops ingesting it.
pub(super) async fn unlink_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
) -> ApiResult<JsonOut<AccountEnvelopeOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    let unlinked = ops::unlink(&state, &company, &feed).await?;
    Ok(JsonOut(AccountEnvelopeOut {
        bank_feed_account: unlinked.into(),
    }))
}
