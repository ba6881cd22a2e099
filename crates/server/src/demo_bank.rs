//! The demo bank: a stand-in for an FI's own login page, served by the hub under `/demo-bank/`
//! so the link flow can be walked with no other software. It plays the FI's part: after "login"
//! it issues an OTP for the chosen customer's connection and sends the browser back to the
//! hub's `redirect_uri`.
//!
//! It acts only for organisations that chose it: the FI's configuration for the platform must
//! name the demo bank's login page as its `login_url`. It only ever redirects to the exact
//! `redirect_uri` the hub itself built for a live challenge, so it is no open redirect. It is
//! mounted only with the sandboxes (`sandbox_enabled`), and signs a customer in only with the
//! demo password, which is the sandbox password (checked in constant time against its digest;
//! each wrong one counts against the client's `auth_failures_per_minute`), as its page says.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::link::{Challenge, Company, LinkRefusal};
use bankfeeds_domain::otp::NewOtp;
use bankfeeds_domain::{Connection, ConnectionId, PageRequest, Secret};
use serde::Deserialize;

use crate::client_limit::Client;
use crate::platforms::sandbox::signin;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo-bank/", get(home))
        .route("/demo-bank/login", get(login_page).post(login))
}

/// The `login_url` an organisation configures to use the demo bank.
pub fn login_url(state: &AppState) -> String {
    format!("{}/demo-bank/login", state.public_base)
}

#[derive(Template)]
#[template(path = "demo_bank/home.html")]
struct HomePage {
    chrome: Chrome,
    login_url: String,
}

async fn home(State(state): State<AppState>) -> Result<Response, PageError> {
    web::render(&HomePage {
        chrome: Chrome::demo_bank("Welcome"),
        login_url: login_url(&state),
    })
}

/// A sign-in the demo bank was sent for: a live challenge of an organisation that uses it.
struct Attempt {
    redirect_uri: String,
    challenge: Challenge,
    company: Company,
    config: FiConfig,
}

fn link_refused(r: LinkRefusal) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        r.code(),
        "This sign-in link cannot be used",
        r.message(),
    )
}

async fn attempt(state: &AppState, redirect_uri: &str) -> Result<Attempt, PageError> {
    let challenge = url::Url::parse(redirect_uri)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "challenge")
                .map(|(_, v)| v.into_owned())
        })
        .map(Secret::from_presented)
        .ok_or_else(|| link_refused(LinkRefusal::UnknownChallenge))?;
    let found = state
        .store
        .get_challenge(&challenge.hash())
        .await?
        .ok_or_else(|| link_refused(LinkRefusal::UnknownChallenge))?;
    // Only ever send the browser back to the hub's own page for this very challenge.
    if redirect_uri != crate::link::redirect_uri(state, found.platform, &challenge) {
        return Err(link_refused(LinkRefusal::UnknownChallenge));
    }
    if found.bound_at.is_some() {
        return Err(link_refused(LinkRefusal::UsedChallenge));
    }
    if found.expires_at <= state.clock.now() {
        return Err(link_refused(LinkRefusal::ExpiredChallenge));
    }
    let config = state
        .store
        .get_fi_config(found.org_id, found.platform)
        .await?
        .filter(|c| c.login_url.starts_with(&login_url(state)))
        .ok_or_else(|| {
            PageError::new(
                StatusCode::FORBIDDEN,
                "DEMO_BANK_NOT_CONFIGURED",
                "Not a demo bank customer",
                "This bank does not use the demo bank as its login page.",
            )
        })?;
    let company = state
        .store
        .get_company(found.company_id)
        .await?
        .ok_or_else(|| PageError::not_found("company"))?;
    Ok(Attempt {
        redirect_uri: redirect_uri.to_owned(),
        challenge: found,
        company,
        config,
    })
}

/// The organisation's live connections for the challenge's platform: the bank's customers
/// who can sign in for it.
async fn customers(state: &AppState, a: &Attempt) -> Result<Vec<Connection>, PageError> {
    let page = PageRequest {
        after: None,
        limit: 200,
    };
    Ok(state
        .store
        .list_connections(a.challenge.org_id, &page)
        .await?
        .items
        .into_iter()
        .filter(|c| c.platform == a.challenge.platform)
        .collect())
}

struct Customer {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "demo_bank/login.html")]
struct LoginPage {
    chrome: Chrome,
    bank: String,
    platform: &'static str,
    company: String,
    redirect_uri: String,
    customers: Vec<Customer>,
    csrf: String,
}

async fn login_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let redirect_uri = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            PageError::bad_request(
                "MISSING_PARAMETER",
                "Open this page from your accounting software's \"connect your bank\".",
            )
        })?;
    let a = attempt(&state, &redirect_uri).await?;
    let customers = customers(&state, &a)
        .await?
        .into_iter()
        .map(|c| Customer {
            id: c.id.to_string(),
            name: c
                .name
                .unwrap_or_else(|| format!("Customer {}", &c.id.to_string()[..8])),
        })
        .collect();
    let page = web::render(&LoginPage {
        chrome: Chrome::demo_bank("Sign in"),
        bank: a.config.display_name.clone(),
        platform: a.challenge.platform.display_name(),
        company: a.company.name.clone(),
        redirect_uri: a.redirect_uri,
        customers,
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
struct LoginForm {
    redirect_uri: String,
    customer: Option<String>,
    #[serde(default)]
    password: String,
}

/// Signed in with the demo password: the bank issues an OTP for the customer's connection and sends the browser
/// back to the hub with it.
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    Posted { form, .. }: Posted<LoginForm>,
) -> Result<Response, PageError> {
    signin::check_password(&state, client, Some(Secret::from_presented(form.password)))
        .map_err(|r| signin::refused_page(r, "demo bank password"))?;
    let a = attempt(&state, &form.redirect_uri).await?;
    let not_customer = || {
        PageError::bad_request(
            "UNKNOWN_CUSTOMER",
            "Choose who you are from the list. Go back and try again.",
        )
    };
    let id: ConnectionId = form
        .customer
        .as_deref()
        .and_then(|c| c.parse().ok())
        .ok_or_else(not_customer)?;
    let connection = state
        .store
        .get_connection(a.challenge.org_id, id)
        .await?
        .filter(|c| c.platform == a.challenge.platform)
        .ok_or_else(not_customer)?;
    let (otp, secret) = NewOtp::generate(&connection, state.clock.now());
    state.store.issue_otp(&otp).await?;
    tracing::info!(connection_id = %connection.id, "demo bank: customer signed in; OTP issued");
    let mut back = url::Url::parse(&a.redirect_uri).map_err(|_| PageError::internal())?;
    back.query_pairs_mut().append_pair("otp", secret.expose());
    Ok(web::see_other(back.as_str()))
}
