//! The sandbox platforms' JSON interface, so tests and scripts drive the link flow without a
//! browser: a company picks an FI from the platform's list of banks, is sent to the FI's login
//! page with a challenge, comes back with the FI's OTP (`link`), and picks the feeds to link,
//! which it can then read, sync and unlink (`feeds`). This file: banks, companies, connect.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use bankfeeds_domain::link::{Company, CompanyId};
use bankfeeds_domain::{OrgId, Platform, Timestamp};
use serde::{Deserialize, Serialize};

use super::ops::{self, OpError, Refusal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::state::AppState;

mod dto;
mod feeds;
mod link;

use feeds::{get_feed, list_feeds, sync_feed, unlink_feed};
use link::{complete, credentials, redirect};

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
            Refusal::FeedDisconnected => ApiError::conflict(
                "FEED_DISCONNECTED",
                "the bank deleted this feed's connection: what was ingested stays, \
                 but it is synced and unlinked no more; link the account again to resume",
            ),
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

impl From<Company> for CompanyOut {
    fn from(c: Company) -> Self {
        CompanyOut {
            id: c.id,
            platform: c.platform,
            name: c.name,
            created_at: c.created_at,
        }
    }
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
        company: company.into(),
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
    /// The binding of this link to the client that started it: send it back with the
    /// redirect (`…/link/redirect`), which is refused without it.
    browser_binding: String,
}

/// "Connect your bank": creates a challenge (10 minutes, single use) bound to this client and
/// answers with the FI's login page to send the customer to, and the binding.
async fn connect(
    State(state): State<AppState>,
    Path((slug, company)): Path<(String, String)>,
    Json(body): Json<ConnectIn>,
) -> ApiResult<JsonOut<ConnectOut>> {
    let platform = platform(&slug)?;
    let company = ops::company(&state, platform, &company).await?;
    let binding = crate::link::binding::for_client();
    let started = ops::connect(&state, platform, &company, body.org_id, &binding.hash()).await?;
    Ok(JsonOut(ConnectOut {
        challenge: started.secret.expose().to_owned(),
        expires_at: started.challenge.expires_at,
        login_redirect_url: started.login_redirect_url,
        browser_binding: binding.expose().to_owned(),
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
        companies: companies.into_iter().map(CompanyOut::from).collect(),
    }))
}
