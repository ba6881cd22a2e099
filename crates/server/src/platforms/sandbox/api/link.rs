//! The link flow through the JSON interface: back from the FI with its OTP (or in with bank
//! feed credentials), then the customer's choice of feeds.

use axum::extract::{Path, State};
use axum::Json as JsonOut;
use bankfeeds_domain::link::{feed_choice, ChoiceRefusal, CompanyId, MAX_ACCOUNTS_PER_LINK};
use bankfeeds_domain::{BankFeedAccountId, Secret, Timestamp};
use serde::{Deserialize, Serialize};

use super::dto::{feeds, FeedAccountOut};
use super::feeds::FeedsOut;
use super::platform;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::time_param;
use crate::platforms::sandbox::{ops, sync};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct RedirectIn {
    challenge: String,
    otp: String,
    /// The binding `…/connect` answered with: the redirect is refused
    /// (`CHALLENGE_NOT_THIS_BROWSER`) from a client without it.
    browser_binding: Option<String>,
}

#[derive(Serialize)]
pub(super) struct RedirectOut {
    company_id: CompanyId,
    /// The connection's accounts the customer may link.
    bank_feed_accounts: Vec<FeedAccountOut>,
}

fn refused(r: bankfeeds_domain::link::LinkRefusal) -> ApiError {
    ApiError::bad_request(r.code(), r.message())
}

/// The redirect back from the FI, with the challenge and the FI's OTP: binds the FI's connection
/// to the company and answers with the accounts to choose from.
pub(super) async fn redirect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<RedirectIn>,
) -> ApiResult<JsonOut<RedirectOut>> {
    let platform = platform(&slug)?;
    let challenge = Secret::from_presented(body.challenge).hash();
    let otp = Secret::from_presented(body.otp).hash();
    let browser = body
        .browser_binding
        .map(|b| Secret::from_presented(b).hash());
    let bound = state
        .store
        .bind_challenge(
            &challenge,
            platform,
            browser.as_ref(),
            &otp,
            state.clock.now(),
        )
        .await?
        .map_err(refused)?;
    let connection = bound
        .connection_id
        .expect("a bound challenge names its connection");
    let accounts = crate::link::linkable_accounts(&state, connection).await?;
    tracing::info!(company_id = %bound.company_id, connection_id = %connection, "link: bank login confirmed");
    Ok(JsonOut(RedirectOut {
        company_id: bound.company_id,
        bank_feed_accounts: feeds(accounts),
    }))
}

#[derive(Deserialize)]
pub(super) struct CompleteIn {
    challenge: String,
    bank_feed_account_ids: Vec<BankFeedAccountId>,
    /// The feed start date the customer chose.
    #[serde(default, deserialize_with = "time_param::option")]
    start_date: Option<Timestamp>,
}

/// The customer's choice of feeds: they become active and ready for transactions.
pub(super) async fn complete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CompleteIn>,
) -> ApiResult<JsonOut<FeedsOut>> {
    platform(&slug)?;
    let accounts = feed_choice(&body.bank_feed_account_ids).map_err(|refusal| match refusal {
        ChoiceRefusal::NoAccounts => ApiError::bad_request(
            "NO_ACCOUNTS_SELECTED",
            "choose at least one account to link",
        ),
        ChoiceRefusal::TooManyAccounts => ApiError::bad_request(
            "TOO_MANY_ACCOUNTS",
            format!("choose at most {MAX_ACCOUNTS_PER_LINK} accounts to link at once"),
        ),
    })?;
    let challenge = Secret::from_presented(body.challenge).hash();
    let linked = state
        .store
        .complete_link(&challenge, &accounts, body.start_date, state.clock.now())
        .await?
        .map_err(refused)?;
    Ok(JsonOut(FeedsOut {
        bank_feed_accounts: feeds(linked),
    }))
}

#[derive(Deserialize)]
pub(super) struct CredentialsIn {
    company_id: String,
    username: String,
    password: String,
}

#[derive(Serialize)]
pub(super) struct CredentialsOut {
    /// Carries the link to `…/link/complete`.
    challenge: String,
    company_id: CompanyId,
    bank_feed_accounts: Vec<FeedAccountOut>,
}

/// QuickBooks: the customer typed the bank feed credentials their bank generated; like the
/// redirect back, answers the accounts to choose from (and the challenge to complete with).
pub(super) async fn credentials(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CredentialsIn>,
) -> ApiResult<JsonOut<CredentialsOut>> {
    let platform = platform(&slug)?;
    if !sync::takes_credentials(platform) {
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
    let accounts = crate::link::linkable_accounts(&state, connection).await?;
    Ok(JsonOut(CredentialsOut {
        challenge: secret.expose().to_owned(),
        company_id: company.id,
        bank_feed_accounts: feeds(accounts),
    }))
}
