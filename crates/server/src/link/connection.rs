//! The page behind a connection's `link_url`: what the FI shows its customer to start linking.
//! The customer starts in their accounting platform, so the page says where to go there and
//! which bank to pick. It shows no secret, only the bank's and the platform's names.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use bankfeeds_domain::Platform;

use crate::state::AppState;
use crate::web::platform_slug;
use crate::web::{self, Chrome, Csrf, PageError};

#[derive(Template)]
#[template(path = "link/connection.html")]
struct ConnectionPage {
    chrome: Chrome,
    platform: &'static str,
    slug: &'static str,
    /// The FI as the platform lists it; `None` when it has not configured this platform.
    bank: Option<String>,
    /// Whether this hub serves the sandboxes (to link the customer to).
    sandbox: bool,
    /// An OFX Direct Connect channel has no link step: the page says what to type where
    /// instead. The server URL is the organisation's, the same for all its customers; the
    /// credentials themselves come from the FI, never from this page.
    ofx_url: Option<String>,
    /// A live Xero connection: the page offers "Connect to Xero" (posted here) instead.
    xero_start: Option<String>,
    csrf: String,
}

pub async fn connection_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let connection = super::connection_in_path(&state, &id).await?;
    let bank = state
        .store
        .get_fi_config(connection.org_id, connection.platform)
        .await?
        .map(|c| c.display_name);
    let live = super::xero::is_live(&state, connection.org_id, connection.platform).await?;
    let page = web::render(&ConnectionPage {
        chrome: Chrome::hub("Connect your accounts"),
        platform: connection.platform.display_name(),
        slug: platform_slug(connection.platform),
        bank,
        sandbox: state.sandbox.is_some(),
        ofx_url: (connection.platform == Platform::OfxDirectConnect)
            .then(|| format!("{}/ofx/{}", state.public_base, connection.org_id)),
        xero_start: live.then(|| format!("/link/connections/{}/xero", connection.id)),
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

struct CompanyConnection {
    platform: &'static str,
    link_url: String,
}

#[derive(Template)]
#[template(path = "link/company.html")]
struct CompanyPage {
    chrome: Chrome,
    name: String,
    connections: Vec<CompanyConnection>,
}

/// A Codat company's `redirect`: its data connections, each with the page that starts it.
/// With the company's access token (`?access_token=`, from Codat's `accessToken`), the links
/// are the working ones: QuickBooks' carry a fresh OTP.
pub async fn company_page(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let (Ok(org), Ok(id)) = (
        org.parse::<bankfeeds_domain::OrgId>(),
        id.parse::<bankfeeds_domain::customer::CustomerId>(),
    ) else {
        return Err(PageError::not_found("company"));
    };
    let customer = state
        .store
        .get_customer(org, id)
        .await?
        .ok_or_else(|| PageError::not_found("company"))?;
    let token = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| bankfeeds_domain::Secret::from_presented(v.into_owned()));
    let trusted = match token {
        None => false,
        Some(t) => state
            .store
            .find_customer_token(&t.hash())
            .await?
            .is_some_and(|t| t.opens(id, state.clock.now())),
    };
    let mut connections = Vec::new();
    for cc in state.store.list_customer_connections(org, id).await? {
        let link_url = if trusted {
            super::codat::link_url(&state, &cc).await?
        } else {
            format!("/link/connections/{}", cc.connection.id)
        };
        connections.push(CompanyConnection {
            platform: cc.connection.platform.display_name(),
            link_url,
        });
    }
    web::render(&CompanyPage {
        chrome: Chrome::hub("Connect your accounts"),
        name: customer.name,
        connections,
    })
}
