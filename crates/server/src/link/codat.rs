//! The page behind a Codat QuickBooks connection's `linkUrl` (Codat's "QBO Bank Feeds Link
//! UI"): the URL carries a one-hour OTP; the page moves it into an `HttpOnly` cookie (so it is
//! in no page and no later URL) and offers "Get credentials", which uses the OTP once and shows
//! a freshly generated username and password to type into QuickBooks.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::customer::CustomerConnection;
use bankfeeds_domain::link::LinkRefusal;
use bankfeeds_domain::Secret;

use crate::state::AppState;
use crate::web::{self, csrf, Chrome, Csrf, PageError, Posted};

const COOKIE: &str = "bf_codat";
pub const START: &str = "/link/codat/start";

/// The connection's `linkUrl`. A QuickBooks connection's carries a fresh one-hour OTP each time
/// it is asked for (as Codat's does: get the connection again for a new link); the others
/// point to the page that says where to start.
pub async fn link_url(
    state: &AppState,
    cc: &CustomerConnection,
) -> bankfeeds_store::StoreResult<String> {
    let c = &cc.connection;
    if c.platform == bankfeeds_domain::Platform::IntuitBankFeeds && cc.unlinked_at.is_none() {
        let (otp, code) = bankfeeds_domain::otp::NewOtp::generate(c, state.clock.now());
        // Alongside the earlier ones: reading the connection must not break a link the
        // customer has open.
        state.store.issue_otp(&otp.alongside_earlier()).await?;
        return Ok(format!(
            "{}{}?otp={}",
            state.public_base,
            START,
            code.expose()
        ));
    }
    Ok(page_url(state, cc))
}

/// The connection's link page without an OTP (what a company's `dataConnections` show, so
/// reading a company does not invalidate a link the customer has open).
pub fn page_url(state: &AppState, cc: &CustomerConnection) -> String {
    format!(
        "{}/link/connections/{}",
        state.public_base, cc.connection.id
    )
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    web::cookie(state, COOKIE, value, "/link/codat", Some(max_age))
}

fn refused(r: LinkRefusal) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        r.code(),
        "This link cannot be used",
        match r {
            LinkRefusal::Otp(_) | LinkRefusal::NotBound => {
                "This link has expired or was already used. Ask your bank for a new link."
            }
            _ => r.message(),
        },
    )
}

#[derive(Template)]
#[template(path = "link/codat_start.html")]
struct StartPage {
    chrome: Chrome,
    csrf: String,
}

/// `GET /link/codat/start[?otp=…]`.
pub async fn start(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let otp = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "otp")
        .map(|(_, v)| v.into_owned());
    if let Some(otp) = otp {
        if otp.is_empty()
            || !otp
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(refused(LinkRefusal::Otp(
                bankfeeds_domain::otp::OtpRefusal::Unknown,
            )));
        }
        let mut response = web::see_other(START);
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie(&state, &otp, 3600));
        return Ok(response);
    }
    if csrf::cookie(&headers, COOKIE).is_none() {
        return Err(refused(LinkRefusal::NotBound));
    }
    let page = web::render(&StartPage {
        chrome: Chrome::hub("Connect your accounts to QuickBooks Online"),
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Template)]
#[template(path = "link/codat_credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    bank: String,
    username: String,
    password: String,
    /// Whether this hub serves the sandboxes (to link the customer to).
    sandbox: bool,
}

/// `POST /link/codat/start`: uses the OTP and shows a new set of credentials, once.
pub async fn get_credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: Posted,
) -> Result<Response, PageError> {
    let otp = csrf::cookie(&headers, COOKIE)
        .map(Secret::from_presented)
        .ok_or_else(|| refused(LinkRefusal::NotBound))?;
    let now = state.clock.now();
    let (org, connection) = state
        .store
        .consume_otp(&otp.hash(), now)
        .await?
        .map_err(|r| refused(LinkRefusal::Otp(r)))?;
    let connection = state
        .store
        .get_connection(org, connection)
        .await?
        .ok_or_else(|| refused(LinkRefusal::ConnectionDeleted))?;
    let (credentials, password) = BankFeedCredentials::generate(&connection, now);
    state.store.create_credentials(&credentials).await?;
    let bank = state
        .store
        .get_fi_config(org, connection.platform)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_else(|| "your bank".to_owned());
    tracing::info!(connection_id = %connection.id, "link: bank feed credentials handed out");
    let mut page = web::render(&CredentialsPage {
        chrome: Chrome::hub("Your bank feed credentials"),
        bank,
        username: credentials.username,
        password: password.expose().to_owned(),
        sandbox: state.sandbox.is_some(),
    })?;
    page.headers_mut()
        .append(header::SET_COOKIE, cookie(&state, "", 0));
    Ok(page)
}
