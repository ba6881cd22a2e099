//! The sandbox platforms' web pages: the list of companies, a company with its linked feeds,
//! "connect your bank" with the banks configured for the platform, and each feed's ingested
//! transactions with a running balance. Every form carries a CSRF token.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::link::Company;
use bankfeeds_domain::statement::{Reconcile, Statement, StatementId};
use bankfeeds_domain::{BankFeedAccount, OrgId, Platform};
use serde::Deserialize;

use super::ops::{self, OpError, Refusal};
use super::sync::{self, FeedView};
use crate::state::AppState;
use crate::web::platform_slug;
use crate::web::{self, Chrome, Csrf, FeedRow, PageError, Posted};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/", get(home))
        .route("/sandbox/{platform}/", get(index))
        .route("/sandbox/{platform}/companies", post(create_company))
        .route("/sandbox/{platform}/companies/{company}", get(company_page))
        .route(
            "/sandbox/{platform}/companies/{company}/connect",
            get(connect_page).post(connect),
        )
        .route(
            "/sandbox/{platform}/companies/{company}/credentials",
            post(credentials_login),
        )
        .route(
            "/sandbox/{platform}/companies/{company}/feeds/{account}",
            get(feed_page),
        )
        .route(
            "/sandbox/{platform}/companies/{company}/feeds/{account}/sync",
            post(sync_now),
        )
        .route(
            "/sandbox/{platform}/companies/{company}/feeds/{account}/unlink",
            post(unlink),
        )
}

fn platform(slug: &str) -> Result<Platform, PageError> {
    web::platform_by_slug(slug).ok_or_else(|| PageError::not_found("platform"))
}

/// The pages' words for the operations' refusals.
impl From<OpError> for PageError {
    fn from(e: OpError) -> Self {
        let r = match e {
            OpError::Store(e) => return e.into(),
            OpError::Refused(r) => r,
        };
        match r {
            Refusal::MalformedCompanyId(_) | Refusal::CompanyNotFound => {
                PageError::not_found("company")
            }
            Refusal::MalformedFeedId(_) | Refusal::FeedNotLinked => PageError::not_found("feed"),
            Refusal::FeedDisconnected => PageError::bad_request(
                "FEED_DISCONNECTED",
                "Your bank disconnected this feed. What was downloaded stays; connect the \
                 account again to download new transactions.",
            ),
            Refusal::InvalidCompanyName => PageError::bad_request(
                "INVALID_FIELD_VALUE",
                "A company name must be 1 to 200 characters.",
            ),
            Refusal::BankNotListed => {
                PageError::bad_request("BANK_NOT_LISTED", "That bank is not listed here.")
            }
            Refusal::InvalidLoginUrl => {
                PageError::bad_request("INVALID_URL", "The bank's login page address is not valid.")
            }
        }
    }
}

// --- the list of sandboxes ---

struct PlatformLink {
    slug: &'static str,
    name: &'static str,
}

#[derive(Template)]
#[template(path = "sandbox/home.html")]
struct HomePage {
    chrome: Chrome,
    platforms: Vec<PlatformLink>,
    csrf: String,
}

async fn home(State(state): State<AppState>, csrf: Csrf) -> Result<Response, PageError> {
    let page = web::render(&HomePage {
        chrome: Chrome {
            home: "/sandbox/".to_owned(),
            ..Chrome::hub("Sandbox accounting platforms")
        },
        csrf: csrf.token().to_owned(),
        platforms: Platform::LINKED
            .into_iter()
            .map(|p| PlatformLink {
                slug: platform_slug(p),
                name: p.display_name(),
            })
            .collect(),
    })?;
    Ok(csrf.attach(page, &state))
}

// --- companies ---

#[derive(Template)]
#[template(path = "sandbox/index.html")]
struct IndexPage {
    chrome: Chrome,
    slug: &'static str,
    companies: Vec<Company>,
    csrf: String,
}

async fn index(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let companies = state.store.list_companies(platform).await?;
    let page = web::render(&IndexPage {
        chrome: Chrome::platform(platform, "Companies"),
        slug: platform_slug(platform),
        companies,
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
struct CompanyForm {
    name: String,
}

async fn create_company(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { form, .. }: Posted<CompanyForm>,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let company = ops::create_company(&state, platform, &form.name).await?;
    Ok(web::see_other(&format!(
        "/sandbox/{}/companies/{}",
        platform_slug(platform),
        company.id
    )))
}

#[derive(Template)]
#[template(path = "sandbox/company.html")]
struct CompanyPage {
    chrome: Chrome,
    slug: &'static str,
    company: Company,
    feeds: Vec<FeedRow>,
    /// Feeds the bank disconnected: what was downloaded stays readable.
    disconnected: Vec<FeedRow>,
}

async fn company_page(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let shown = ops::company_feeds(&state, &company).await?;
    web::render(&CompanyPage {
        chrome: Chrome::platform(platform, company.name.clone()),
        slug: platform_slug(platform),
        feeds: shown.linked.iter().map(FeedRow::new).collect(),
        disconnected: shown.disconnected.iter().map(FeedRow::new).collect(),
        company,
    })
}

// --- connect your bank ---

#[derive(Template)]
#[template(path = "sandbox/connect.html")]
struct ConnectPage {
    chrome: Chrome,
    slug: &'static str,
    company: Company,
    banks: Vec<FiConfig>,
    /// QuickBooks also links with credentials the bank generated (Codat's flow).
    takes_credentials: bool,
    csrf: String,
}

async fn connect_page(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let banks = state.store.list_fis_for_platform(platform).await?;
    let page = web::render(&ConnectPage {
        chrome: Chrome::platform(platform, "Connect your bank"),
        slug: platform_slug(platform),
        company,
        banks,
        takes_credentials: sync::takes_credentials(platform),
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
struct ConnectForm {
    org_id: String,
}

/// The customer picked their bank: a challenge (10 minutes, single use) is created, bound to
/// this browser, and the browser goes to the bank's login page with the hub's `redirect_uri`.
async fn connect(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    Posted { form, .. }: Posted<ConnectForm>,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let org: OrgId = form
        .org_id
        .parse()
        .map_err(|_| PageError::bad_request("BANK_NOT_LISTED", "Pick a bank from the list."))?;
    // The challenge belongs to this browser: the redirect back is refused anywhere else.
    let (browser, cookie) = crate::link::binding::for_browser(&state, &headers);
    let started = ops::connect(&state, platform, &company, org, &browser).await?;
    let mut response = web::see_other(&started.login_redirect_url);
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, cookie);
    Ok(response)
}

// --- a feed ---

#[derive(Template)]
#[template(path = "sandbox/feed.html")]
struct FeedPage {
    chrome: Chrome,
    slug: &'static str,
    company: Company,
    feed: FeedRow,
    view: FeedView,
    pulls_on_open: bool,
    next_sync: String,
    csrf: String,
}

impl FeedPage {
    fn money(&self, d: &rust_decimal::Decimal) -> String {
        web::money(*d, self.view.account.currency)
    }

    /// Money with its currency, as a statement's balances are shown.
    fn balance(&self, d: &rust_decimal::Decimal) -> String {
        format!(
            "{} {}",
            self.view.account.currency,
            web::money(*d, self.view.account.currency)
        )
    }

    /// A statement's reconcile status in words, and its stable name.
    fn reconcile(&self, s: &Statement) -> (&'static str, String) {
        let status = s.reconcile();
        let words = match status {
            Reconcile::TiesOut => "Ties out".to_owned(),
            Reconcile::Difference(d) => format!("Difference of {}", self.balance(&d)),
            Reconcile::NotReported => {
                "No closing balance from the bank for this day: carried from the lines".to_owned()
            }
        };
        (status.as_str(), words)
    }

    fn period(&self, s: &Statement) -> String {
        match s.day {
            Some(day) => format!("Statement for {day}"),
            None => format!("Statement of {}", web::moment(s.ingested_at)),
        }
    }

    fn amount(&self, a: &bankfeeds_domain::Amount) -> String {
        web::money(a.as_decimal(), self.view.account.currency)
    }

    fn negative(&self, a: &bankfeeds_domain::Amount) -> bool {
        a.is_negative()
    }

    fn date(&self, t: &bankfeeds_domain::Timestamp) -> String {
        web::date(*t)
    }

    fn moment(&self, t: &bankfeeds_domain::Timestamp) -> String {
        web::moment(*t)
    }
}

#[derive(Deserialize)]
struct FeedQuery {
    before: Option<String>,
}

const STATEMENTS_PER_PAGE: u32 = 10;

async fn feed_page(
    State(state): State<AppState>,
    Path((slug, company, account)): Path<(String, String, String)>,
    Query(query): Query<FeedQuery>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let shown = ops::shown_feed(&state, &company, &account).await?;
    let mut feed = shown.account;
    let before = match query.before.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<StatementId>()
                .map_err(|_| PageError::not_found("statement"))?,
        ),
    };
    // QuickBooks pulls the feed whenever the customer opens it (the first page only).
    if sync::pulls_on_open(platform) && before.is_none() && !shown.disconnected {
        sync::sync_feed(&state, platform, company.id, feed.id).await?;
        feed = ops::feed(&state, &company, &account).await?;
    }
    let next_sync = feed
        .last_synced_at
        .map(|t| web::moment(t + state.sandbox_sync.interval(platform)))
        .unwrap_or_else(|| "soon".to_owned());
    let view = sync::feed_view(
        &state,
        feed.clone(),
        shown.disconnected,
        before,
        STATEMENTS_PER_PAGE,
    )
    .await?;
    let page = web::render(&FeedPage {
        chrome: Chrome::platform(platform, FeedRow::new(&feed).name),
        slug: platform_slug(platform),
        feed: FeedRow::new(&feed),
        company,
        view,
        pulls_on_open: sync::pulls_on_open(platform),
        next_sync,
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

/// A button on a feed's page (sync now, unlink) posted (its CSRF token checked): its
/// platform, company and feed.
async fn posted_feed(
    state: &AppState,
    (slug, company, account): &(String, String, String),
) -> Result<(Platform, Company, BankFeedAccount), PageError> {
    let platform = platform(slug)?;
    let company = ops::company(state, platform, company).await?;
    let feed = ops::feed(state, &company, account).await?;
    Ok((platform, company, feed))
}

async fn sync_now(
    State(state): State<AppState>,
    Path(path): Path<(String, String, String)>,
    _: Posted,
) -> Result<Response, PageError> {
    let (platform, company, feed) = posted_feed(&state, &path).await?;
    sync::sync_feed(&state, platform, company.id, feed.id).await?;
    Ok(web::see_other(&format!(
        "/sandbox/{}/companies/{}/feeds/{}",
        platform_slug(platform),
        company.id,
        feed.id
    )))
}

async fn unlink(
    State(state): State<AppState>,
    Path(path): Path<(String, String, String)>,
    _: Posted,
) -> Result<Response, PageError> {
    let (platform, company, feed) = posted_feed(&state, &path).await?;
    ops::unlink(&state, &company, &feed).await?;
    tracing::info!(platform = platform.as_str(), company_id = %company.id, bank_feed_account_id = %feed.id, "feed unlinked in the sandbox");
    Ok(web::see_other(&format!(
        "/sandbox/{}/companies/{}",
        platform_slug(platform),
        company.id
    )))
}

#[derive(Deserialize)]
struct CredentialsForm {
    username: String,
    password: String,
}

/// QuickBooks' other way in: the customer types the bank feed credentials their bank
/// generated. They name the connection; the hub binds it to the company as an OTP would (one
/// is issued and used on the spot, never leaving the server) and goes on to the selection.
async fn credentials_login(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
    Posted { form, .. }: Posted<CredentialsForm>,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    if !sync::takes_credentials(platform) {
        return Err(PageError::not_found("page"));
    }
    let company = ops::company(&state, platform, &company).await?;
    let password = bankfeeds_domain::Secret::from_presented(form.password);
    let (secret, bound) = ops::bind_with_credentials(&state, &company, &form.username, &password)
        .await?
        .map_err(|r| PageError::bad_request(r.code(), r.message()))?;
    tracing::info!(company_id = %company.id, connection_id = ?bound.connection_id, "link: bank feed credentials accepted");
    let mut response = web::see_other(&format!("/link/{}/select", platform_slug(platform)));
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        crate::link::select::link_cookie(
            &state,
            secret.expose(),
            bankfeeds_domain::link::SELECTION_TTL.num_seconds(),
        ),
    );
    Ok(response)
}
