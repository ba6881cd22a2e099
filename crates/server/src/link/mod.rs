//! The hub's link pages, between the platform and the FI: the redirect back from the FI's
//! login page (challenge + OTP), and the platform's account selection with a feed start date.
//!
//! The OTP arrives in the redirect's query string. A GET of that URL changes nothing (a mail
//! scanner's prefetch must not use the OTP up): it shows a "Continue" button, and only its POST
//! (CSRF-checked, from the browser that started the link: see `binding`) uses the OTP and
//! binds the challenge; the browser is then sent on (303) to the selection page, so the OTP is
//! in no page, no later URL and no log (request spans name the route, never the URI). The
//! challenge then rides in an `HttpOnly` cookie scoped to `/link` while the customer chooses.

pub mod binding;
pub mod codat;
mod connection;
pub(crate) mod select;
pub mod xero;
mod xero_choose;

use axum::routing::{get, post};
use axum::Router;
use bankfeeds_domain::account::{AccountQuery, AccountSortField, SortDirection};
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{BankFeedAccount, Connection, ConnectionId, Platform, Secret};
use bankfeeds_store::StoreResult;

use crate::state::AppState;
use crate::web::{platform_slug, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/link/{platform}/redirect",
            get(select::redirect_page).post(select::redirect),
        )
        .route("/link/connections/{id}", get(connection::connection_page))
        .route(codat::START, get(codat::start).post(codat::get_credentials))
        .route(
            "/link/orgs/{org}/customers/{id}",
            get(connection::company_page),
        )
        .route(
            "/link/{platform}/select",
            get(select::select_page).post(select::select),
        )
        .route("/link/connections/{id}/xero", post(xero::start))
        .route(xero::CALLBACK, get(xero::callback))
        .route(
            xero::ORGANISATION,
            get(xero_choose::organisation_page).post(xero_choose::choose_organisation),
        )
        .route(
            xero::ACCOUNTS,
            get(xero_choose::accounts_page).post(xero_choose::choose_accounts),
        )
}

/// The `redirect_uri` the FI sends the customer back to, carrying the challenge.
pub fn redirect_uri(state: &AppState, platform: Platform, challenge: &Secret) -> String {
    format!(
        "{}/link/{}/redirect?challenge={}",
        state.public_base,
        platform_slug(platform),
        challenge.expose()
    )
}

/// The FI's login page with the hub's `redirect_uri` appended: where "connect your bank" sends
/// the customer's browser.
pub fn login_redirect(
    state: &AppState,
    config: &FiConfig,
    platform: Platform,
    challenge: &Secret,
) -> Result<String, url::ParseError> {
    let mut login = url::Url::parse(&config.login_url)?;
    // The challenge rides twice, as seed 003 shows: inside `redirect_uri`, and on its own for
    // an FI that sends the customer back through the OTP answer's `redirect_uri` instead.
    login
        .query_pairs_mut()
        .append_pair("redirect_uri", &redirect_uri(state, platform, challenge))
        .append_pair("challenge", challenge.expose());
    Ok(login.to_string())
}

/// The live connection a link page's path names (`{id}`), or the page's 404.
async fn connection_in_path(state: &AppState, id: &str) -> Result<Connection, PageError> {
    let not_found = || PageError::not_found("connection");
    let id: ConnectionId = id.parse().map_err(|_| not_found())?;
    state.store.find_connection(id).await?.ok_or_else(not_found)
}

/// The accounts of a connection bound to a company, which the customer may link: what both
/// the selection page and the sandbox's JSON face offer.
pub async fn linkable_accounts(
    state: &AppState,
    connection: ConnectionId,
) -> StoreResult<Vec<BankFeedAccount>> {
    let query = AccountQuery {
        filters: Vec::new(),
        sort: AccountSortField::UpdatedAt,
        direction: SortDirection::Asc,
        after: None,
        limit: 500,
    };
    Ok(state.store.list_accounts(connection, &query).await?.items)
}
