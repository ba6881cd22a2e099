//! Setting a password through the one-time setup link, signing in and out.
//!
//! A sign-in is refused outright while the email or the client address is locked by failed
//! attempts (`domain::operator::Throttle`, kept in the database so every instance counts them);
//! a wrong password counts against both. Argon2 runs on the blocking pool, and an unknown
//! email costs the same hash as a known one, so timing does not tell which emails exist.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use bankfeeds_domain::operator::{
    normalize_email, NewSession, Operator, PasswordHash, PasswordRefusal, ThrottleKey,
};
use bankfeeds_domain::Secret;
use serde::Deserialize;

use super::session::{set_cookie, token};
use crate::client_limit::Client;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    chrome: Chrome,
    csrf: String,
    token: String,
    email: String,
    error: String,
}

#[derive(Deserialize)]
pub(super) struct SetupQuery {
    token: Option<String>,
}

fn link_refused() -> PageError {
    PageError::new(
        StatusCode::GONE,
        "SETUP_LINK_INVALID",
        "This link cannot be used",
        "This setup link is unknown, already used or expired. Ask for a new one \
         (bankfeeds operator create).",
    )
}

pub(super) async fn setup_page(
    State(state): State<AppState>,
    Query(query): Query<SetupQuery>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let raw = query.token.unwrap_or_default();
    let token = Secret::from_presented(raw.clone());
    let operator = state
        .store
        .setup_operator(&token.hash(), state.clock.now())
        .await?
        .map_err(|_| link_refused())?;
    let page = web::render(&SetupPage {
        chrome: super::chrome("Choose your password"),
        csrf: csrf.token().to_owned(),
        token: raw,
        email: operator.email,
        error: String::new(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
pub(super) struct SetupForm {
    token: String,
    password: String,
    confirm: String,
}

pub(super) async fn setup(
    State(state): State<AppState>,
    Posted { form, csrf }: Posted<SetupForm>,
) -> Result<Response, PageError> {
    let secret = Secret::from_presented(form.token.clone());
    let now = state.clock.now();
    let operator = state
        .store
        .setup_operator(&secret.hash(), now)
        .await?
        .map_err(|_| link_refused())?;
    let (password, confirm) = (form.password, form.confirm);
    let chosen = tokio::task::spawn_blocking(move || PasswordHash::choose(&password, &confirm))
        .await
        .map_err(|_| PageError::internal())?;
    let hash = match chosen {
        Ok(h) => h,
        Err(refusal) => {
            let error = match refusal {
                PasswordRefusal::TooShort => "Choose a password of at least 12 characters.",
                PasswordRefusal::TooLong => "Choose a password of at most 256 characters.",
                PasswordRefusal::Mismatch => "The two passwords differ.",
            };
            return web::render_status(
                StatusCode::BAD_REQUEST,
                &SetupPage {
                    chrome: super::chrome("Choose your password"),
                    csrf: csrf.token().to_owned(),
                    token: form.token,
                    email: operator.email,
                    error: error.to_owned(),
                },
            );
        }
    };
    let operator = state
        .store
        .complete_setup(&secret.hash(), &hash, now)
        .await?
        .map_err(|_| link_refused())?;
    tracing::info!(org_id = %operator.org_id, operator_id = %operator.id, "console: password set");
    signed_in(&state, &operator).await
}

/// Opens a session for `operator` and sends the browser to the overview.
async fn signed_in(state: &AppState, operator: &Operator) -> Result<Response, PageError> {
    let (session, token) = NewSession::generate(operator, state.clock.now());
    state.store.open_session(&session).await?;
    let mut response = web::see_other("/console");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(state, Some(&token)));
    Ok(response)
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    error: String,
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let page = web::render(&LoginPage {
        chrome: super::chrome("Sign in"),
        csrf: csrf.token().to_owned(),
        email: String::new(),
        error: String::new(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    email: String,
    password: String,
}

/// A PHC string no password matches, verified when the email has no operator so that a
/// wrong email takes as long as a wrong password.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                     0XWQqNdUFnmsmUtmVq0BKCfHYc6SKRsyo/7a6vmMyHE";

pub(super) async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    Posted { form, csrf }: Posted<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let email = normalize_email(&form.email).unwrap_or_else(|_| form.email.trim().to_owned());
    let peer = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let keys = [ThrottleKey::Email(email.clone()), ThrottleKey::Peer(peer)];
    let refuse = |status: StatusCode, error: &str| {
        web::render_status(
            status,
            &LoginPage {
                chrome: super::chrome("Sign in"),
                csrf: csrf.token().to_owned(),
                email: email.clone(),
                error: error.to_owned(),
            },
        )
    };
    if state.store.login_locked(&keys, now).await? {
        state.metrics.rate_limited.inc();
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins for this email or from your address. Try again in 15 minutes.",
        );
    }
    let candidates = state.store.login_candidates(&email).await?;
    let password = form.password;
    let matched = tokio::task::spawn_blocking(move || {
        if candidates.is_empty() {
            PasswordHash::from_stored(DECOY).verify(&password);
            return None;
        }
        // The same person may run two organisations with one email: the first whose password
        // matches is signed in.
        candidates
            .into_iter()
            .find(|(_, hash)| hash.verify(&password))
            .map(|(op, _)| op)
    })
    .await
    .map_err(|_| PageError::internal())?;
    match matched {
        Some(operator) => {
            state.store.clear_login_failures(&keys[0]).await?;
            let org = state.store.get_org(operator.org_id).await?;
            if org.is_none_or(|o| o.is_disabled()) {
                tracing::info!(org_id = %operator.org_id, "console: sign-in to a disabled organisation");
                return refuse(
                    StatusCode::FORBIDDEN,
                    "This organisation is disabled on this hub. Ask the hub's operator.",
                );
            }
            tracing::info!(org_id = %operator.org_id, operator_id = %operator.id, "console: signed in");
            signed_in(&state, &operator).await
        }
        None => {
            state.store.record_login_failure(&keys, now).await?;
            tracing::info!("console: sign-in refused");
            refuse(StatusCode::UNAUTHORIZED, "Wrong email or password.")
        }
    }
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: Posted,
) -> Result<Response, PageError> {
    if let Some(t) = token(&state, &headers) {
        state
            .store
            .revoke_session(&t.hash(), state.clock.now())
            .await?;
    }
    let mut response = web::see_other("/console/login");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, None));
    Ok(response)
}
