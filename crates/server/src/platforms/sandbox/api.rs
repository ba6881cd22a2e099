//! The sandbox platforms' JSON interface, so tests and scripts drive the link flow without a
//! browser: a company picks an FI from the platform's list of banks, is sent to the FI's login
//! page with a challenge, comes back with the FI's OTP, and picks the feeds to link.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::statement::{Statement, StatementId};
use bankfeeds_domain::{BankFeedAccountId, OrgId, Platform, Secret, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ops::{self, OpError, Refusal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::time_param;
use crate::rutter::accounts::AccountOut;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/{platform}/api/banks", get(list_banks))
        .route(
            "/sandbox/{platform}/api/companies",
            post(create_company).get(list_companies),
        )
        .route(
            "/sandbox/{platform}/api/companies/{company}/feeds/{account}",
            get(get_feed),
        )
        .route(
            "/sandbox/{platform}/api/companies/{company}/feeds/{account}/sync",
            post(sync_feed),
        )
        .route(
            "/sandbox/{platform}/api/companies/{company}/feeds/{account}/unlink",
            post(unlink_feed),
        )
        .route(
            "/sandbox/{platform}/api/companies/{company}/connect",
            post(connect),
        )
        .route(
            "/sandbox/{platform}/api/companies/{company}/feeds",
            get(list_feeds),
        )
        .route("/sandbox/{platform}/api/link/redirect", post(redirect))
        .route("/sandbox/{platform}/api/link/complete", post(complete))
        .route(
            "/sandbox/{platform}/api/link/credentials",
            post(credentials),
        )
}

/// Platforms by the slug their pages use.
fn platform(slug: &str) -> Result<Platform, ApiError> {
    crate::web::platform_by_slug(slug).ok_or_else(ApiError::route_not_found)
}

/// The JSON interface's words for the operations' refusals.
impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        let r = match e {
            OpError::Store(e) => return e.into(),
            OpError::Refused(r) => r,
        };
        match r {
            Refusal::MalformedCompanyId(raw) => {
                ApiError::bad_request("INVALID_ID", format!("{raw:?} is not a company id"))
            }
            Refusal::CompanyNotFound => {
                ApiError::gone("COMPANY_NOT_FOUND", "no such company on this platform")
            }
            Refusal::MalformedFeedId(raw) => {
                ApiError::bad_request("INVALID_ID", format!("{raw:?} is not an account id"))
            }
            Refusal::FeedNotLinked => {
                ApiError::gone("FEED_NOT_LINKED", "the company has not linked that feed")
            }
            Refusal::InvalidCompanyName => ApiError::bad_request(
                "INVALID_FIELD_VALUE",
                "field `name` must be 1 to 200 characters",
            ),
            Refusal::BankNotListed => ApiError::bad_request(
                "BANK_NOT_LISTED",
                "that bank is not listed on this platform",
            ),
            Refusal::InvalidLoginUrl => {
                ApiError::bad_request("INVALID_URL", "the bank's login_url is not a URL")
            }
        }
    }
}

#[derive(Serialize)]
struct BankOut {
    org_id: OrgId,
    display_name: String,
    logo_url: Option<String>,
    country_code: String,
    otp_instructions: Option<String>,
}

#[derive(Serialize)]
struct BanksOut {
    banks: Vec<BankOut>,
}

/// The platform's list of banks: every FI configured for it.
async fn list_banks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<JsonOut<BanksOut>> {
    let platform = platform(&slug)?;
    let banks = state.store.list_fis_for_platform(platform).await?;
    Ok(JsonOut(BanksOut {
        banks: banks
            .into_iter()
            .map(|c| BankOut {
                org_id: c.org_id,
                display_name: c.display_name,
                logo_url: c.logo_url,
                country_code: c.country_code,
                otp_instructions: c.otp_instructions,
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
struct CompanyIn {
    name: String,
}

#[derive(Serialize)]
struct CompanyOut {
    id: CompanyId,
    platform: Platform,
    name: String,
    created_at: Timestamp,
}

#[derive(Serialize)]
struct CompanyEnvelopeOut {
    company: CompanyOut,
}

/// A company (a business's books) in the sandbox platform.
async fn create_company(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CompanyIn>,
) -> ApiResult<JsonOut<CompanyEnvelopeOut>> {
    let platform = platform(&slug)?;
    let company = ops::create_company(&state, platform, &body.name).await?;
    Ok(JsonOut(CompanyEnvelopeOut {
        company: CompanyOut {
            id: company.id,
            platform,
            name: company.name,
            created_at: company.created_at,
        },
    }))
}

#[derive(Deserialize)]
struct ConnectIn {
    /// The FI picked from the list of banks.
    org_id: OrgId,
}

#[derive(Serialize)]
struct ConnectOut {
    /// The challenge's secret: it rides in the redirect to the FI and back.
    challenge: String,
    expires_at: Timestamp,
    /// Where the customer's browser goes now: the FI's login page with `redirect_uri`.
    login_redirect_url: String,
}

/// "Connect your bank": creates a challenge (10 minutes, single use) and answers with the FI's
/// login page to send the customer to.
async fn connect(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
    Json(body): Json<ConnectIn>,
) -> ApiResult<JsonOut<ConnectOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let started = ops::connect(&state, platform, &company, body.org_id).await?;
    Ok(JsonOut(ConnectOut {
        challenge: started.secret.expose().to_owned(),
        expires_at: started.challenge.expires_at,
        login_redirect_url: started.login_redirect_url,
    }))
}

#[derive(Deserialize)]
struct RedirectIn {
    challenge: String,
    otp: String,
}

#[derive(Serialize)]
struct RedirectOut {
    company_id: CompanyId,
    /// The connection's accounts the customer may link.
    bank_feed_accounts: Vec<AccountOut>,
}

fn refused(r: bankfeeds_domain::link::LinkRefusal) -> ApiError {
    ApiError::bad_request(r.code(), r.message())
}

/// The redirect back from the FI, with the challenge and the FI's OTP: binds the FI's connection
/// to the company and answers with the accounts to choose from.
async fn redirect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<RedirectIn>,
) -> ApiResult<JsonOut<RedirectOut>> {
    let platform = platform(&slug)?;
    let challenge = Secret::from_presented(body.challenge).hash();
    let otp = Secret::from_presented(body.otp).hash();
    let bound = state
        .store
        .bind_challenge(&challenge, platform, &otp, state.clock.now())
        .await?
        .map_err(refused)?;
    let connection = bound
        .connection_id
        .expect("a bound challenge names its connection");
    let accounts = ops::linkable_accounts(&state, connection).await?;
    tracing::info!(company_id = %bound.company_id, connection_id = %connection, "link: bank login confirmed");
    Ok(JsonOut(RedirectOut {
        company_id: bound.company_id,
        bank_feed_accounts: accounts
            .into_iter()
            .map(|a| AccountOut::new(a, false))
            .collect(),
    }))
}

#[derive(Deserialize)]
struct CompleteIn {
    challenge: String,
    bank_feed_account_ids: Vec<BankFeedAccountId>,
    /// The feed start date the customer chose.
    #[serde(default, deserialize_with = "time_param::option")]
    start_date: Option<Timestamp>,
}

#[derive(Serialize)]
struct FeedsOut {
    bank_feed_accounts: Vec<AccountOut>,
}

/// The customer's choice of feeds: they become active and ready for transactions.
async fn complete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CompleteIn>,
) -> ApiResult<JsonOut<FeedsOut>> {
    platform(&slug)?;
    if body.bank_feed_account_ids.is_empty() {
        return Err(ApiError::bad_request(
            "NO_ACCOUNTS_SELECTED",
            "choose at least one account to link",
        ));
    }
    let challenge = Secret::from_presented(body.challenge).hash();
    let linked = state
        .store
        .complete_link(
            &challenge,
            &body.bank_feed_account_ids,
            body.start_date,
            state.clock.now(),
        )
        .await?
        .map_err(refused)?;
    Ok(JsonOut(FeedsOut {
        bank_feed_accounts: linked
            .into_iter()
            .map(|a| AccountOut::new(a, false))
            .collect(),
    }))
}

/// The company's linked feeds.
async fn list_feeds(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
) -> ApiResult<JsonOut<FeedsOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feeds = state.store.list_company_feeds(company.id).await?;
    Ok(JsonOut(FeedsOut {
        bank_feed_accounts: feeds
            .into_iter()
            .map(|a| AccountOut::new(a, false))
            .collect(),
    }))
}

#[derive(Serialize)]
struct CompaniesOut {
    companies: Vec<CompanyOut>,
}

/// The platform's companies, oldest first.
async fn list_companies(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<JsonOut<CompaniesOut>> {
    let platform = platform(&slug)?;
    let companies = state.store.list_companies(platform).await?;
    Ok(JsonOut(CompaniesOut {
        companies: companies
            .into_iter()
            .map(|c| CompanyOut {
                id: c.id,
                platform: c.platform,
                name: c.name,
                created_at: c.created_at,
            })
            .collect(),
    }))
}

#[derive(Serialize)]
struct StatementOut {
    id: StatementId,
    ingested_at: Timestamp,
    transaction_count: u32,
    #[serde(serialize_with = "bankfeeds_domain::money::exact_number")]
    opening_balance: Decimal,
    #[serde(serialize_with = "bankfeeds_domain::money::exact_number")]
    closing_balance: Decimal,
}

impl From<&Statement> for StatementOut {
    fn from(s: &Statement) -> Self {
        Self {
            id: s.id,
            ingested_at: s.ingested_at,
            transaction_count: s.transaction_count,
            opening_balance: s.opening_balance,
            closing_balance: s.closing_balance,
        }
    }
}

#[derive(Serialize)]
struct IngestedOut {
    id: bankfeeds_domain::TransactionId,
    transaction_id: String,
    posted_at: Timestamp,
    #[serde(serialize_with = "bankfeeds_domain::money::exact_number")]
    amount: Decimal,
    description: Option<String>,
    payee: Option<String>,
    /// The platform's running balance after this transaction.
    #[serde(serialize_with = "bankfeeds_domain::money::exact_number")]
    balance: Decimal,
}

#[derive(Serialize)]
struct StatementWithRowsOut {
    #[serde(flatten)]
    statement: StatementOut,
    transactions: Vec<IngestedOut>,
}

#[derive(Serialize)]
struct FeedOut {
    bank_feed_account: AccountOut,
    /// Newest first.
    statements: Vec<StatementWithRowsOut>,
    /// Pass as `before` for older statements.
    next_before: Option<StatementId>,
}

#[derive(Deserialize)]
struct FeedQuery {
    before: Option<StatementId>,
}

/// What the platform holds for a feed: its statements (newest first), each with its
/// transactions and running balance. Reading does not sync; `…/sync` does.
async fn get_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<FeedQuery>,
) -> ApiResult<JsonOut<FeedOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    let view = super::sync::feed_view(&state, feed, query.before, 20).await?;
    Ok(JsonOut(FeedOut {
        bank_feed_account: AccountOut::new(view.account, false),
        statements: view
            .statements
            .iter()
            .map(|s| StatementWithRowsOut {
                statement: StatementOut::from(&s.statement),
                transactions: s
                    .rows
                    .iter()
                    .map(|(t, balance)| IngestedOut {
                        id: t.id,
                        transaction_id: t.data.transaction_id.clone(),
                        posted_at: t.data.posted_at,
                        amount: t.data.amount.as_decimal(),
                        description: t.data.description.clone(),
                        payee: t.data.payee.clone(),
                        balance: *balance,
                    })
                    .collect(),
            })
            .collect(),
        next_before: view.older,
    }))
}

#[derive(Serialize)]
struct SyncOut {
    /// The statements this sync created (none when nothing was new).
    statements: Vec<StatementOut>,
    transactions_ingested: u32,
    bank_feed_account: AccountOut,
}

/// "Sync now": the platform ingests the feed.
async fn sync_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
) -> ApiResult<JsonOut<SyncOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    let statements = super::sync::sync_feed(&state, platform, company.id, feed.id).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    Ok(JsonOut(SyncOut {
        transactions_ingested: statements.iter().map(|s| s.transaction_count).sum(),
        statements: statements.iter().map(StatementOut::from).collect(),
        bank_feed_account: AccountOut::new(feed, false),
    }))
}

#[derive(Serialize)]
struct AccountEnvelopeOut {
    bank_feed_account: AccountOut,
}

/// The customer unlinks a feed: it becomes inactive and the platform stops ingesting it.
async fn unlink_feed(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
) -> ApiResult<JsonOut<AccountEnvelopeOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let feed = ops::feed(&state, &company, &account).await?;
    let unlinked = ops::unlink(&state, &company, &feed).await?;
    Ok(JsonOut(AccountEnvelopeOut {
        bank_feed_account: AccountOut::new(unlinked, false),
    }))
}

#[derive(Deserialize)]
struct CredentialsIn {
    company_id: String,
    username: String,
    password: String,
}

#[derive(Serialize)]
struct CredentialsOut {
    /// Carries the link to `…/link/complete`.
    challenge: String,
    company_id: CompanyId,
    bank_feed_accounts: Vec<AccountOut>,
}

/// QuickBooks: the customer typed the bank feed credentials their bank generated; like the
/// redirect back, answers the accounts to choose from (and the challenge to complete with).
async fn credentials(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CredentialsIn>,
) -> ApiResult<JsonOut<CredentialsOut>> {
    let platform = platform(&slug)?;
    if !super::sync::takes_credentials(platform) {
        return Err(ApiError::route_not_found());
    }
    let company = ops::company(&state, platform, &body.company_id).await?;
    let password = Secret::from_presented(body.password);
    let (secret, bound) = ops::bind_with_credentials(&state, &company, &body.username, &password)
        .await?
        .map_err(|r| ApiError::bad_request(r.code(), r.message()))?;
    let connection = bound
        .connection_id
        .expect("a bound challenge names its connection");
    let accounts = ops::linkable_accounts(&state, connection).await?;
    Ok(JsonOut(CredentialsOut {
        challenge: secret.expose().to_owned(),
        company_id: company.id,
        bank_feed_accounts: accounts
            .into_iter()
            .map(|a| AccountOut::new(a, false))
            .collect(),
    }))
}
