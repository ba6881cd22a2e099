//! The door to the sandbox platforms: a browser signs in with the sandbox password for a
//! session (an `HttpOnly` cookie, `__Host-` prefixed over https); the JSON interface sends the
//! password in `Authorization: Bearer …` on each call, which no other site can make a browser
//! do. A wrong password counts against the client's budget of failed authentications
//! (`auth_failures_per_minute`), as a wrong API secret does.

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bankfeeds_domain::sandbox::{after_sign_in, SESSION_TTL};
use bankfeeds_domain::Secret;
use serde::Deserialize;

use crate::client_limit::{Client, ClientKey};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::web::{self, csrf, Chrome, Csrf, PageError, Posted};

/// The session cookie (see `web::csrf` for why `__Host-` over https).
const COOKIE: web::SiteCookie = web::SiteCookie {
    plain: "bf_sandbox",
    host: "__Host-bf_sandbox",
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/signin", get(signin_page).post(signin))
        .route("/sandbox/signout", post(signout))
}

/// Why a sign-in (or a JSON call's password) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No password, or the wrong one: counted against the client.
    Wrong,
    /// The client spent its budget of failures: retry after this many seconds.
    Blocked(u64),
}

/// Checks a presented sandbox password for `client`: refused outright while the client is
/// blocked, and each wrong one counted (the one that spends the budget answers `Blocked`).
pub fn check_password(
    state: &AppState,
    client: ClientKey,
    presented: Option<Secret>,
) -> Result<(), Refused> {
    let failures = state.auth_failures.as_deref();
    if let Some(wait) = failures.and_then(|f| f.blocked(client)) {
        state.metrics.rate_limited.inc();
        return Err(Refused::Blocked(wait));
    }
    let admitted = match (&state.sandbox, presented) {
        (Some(access), Some(p)) => access.admits(&p),
        _ => false,
    };
    if admitted {
        return Ok(());
    }
    match failures.and_then(|f| f.failed(client)) {
        Some(wait) => {
            state.metrics.rate_limited.inc();
            Err(Refused::Blocked(wait))
        }
        None => Err(Refused::Wrong),
    }
}

/// The page answer to a refused password.
pub fn refused_page(r: Refused, what: &'static str) -> PageError {
    match r {
        Refused::Wrong => PageError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "Wrong password",
            format!("That is not the {what}. Go back and try again."),
        ),
        Refused::Blocked(wait) => PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "Too many attempts",
            format!("Too many wrong passwords from your address. Try again in {wait} seconds."),
        ),
    }
}

/// Middleware for the sandbox's JSON interface: `Authorization: Bearer <sandbox password>`.
pub async fn require_password(
    State(state): State<AppState>,
    Client(client): Client,
    request: Request,
    next: Next,
) -> Response {
    let Some(header) = request.headers().get(AUTHORIZATION) else {
        return ApiError::unauthorized(
            "MISSING_CREDENTIALS",
            "send the sandbox password: Authorization: Bearer <sandbox_password>",
        )
        .into_response();
    };
    let presented = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|p| Secret::from_presented(p.trim()));
    match check_password(&state, client, presented) {
        Ok(()) => next.run(request).await,
        Err(Refused::Wrong) => ApiError::unauthorized(
            "INVALID_CREDENTIALS",
            "that is not the sandbox password (Authorization: Bearer <sandbox_password>)",
        )
        .into_response(),
        Err(Refused::Blocked(wait)) => ApiError::client_rate_limited(wait).into_response(),
    }
}

fn session(state: &AppState, headers: &HeaderMap) -> Option<Secret> {
    csrf::cookie(headers, COOKIE.name(state)).map(Secret::from_presented)
}

/// Middleware for the sandbox's pages: a browser without a live session is sent to sign in,
/// and comes back to the page it asked for.
pub async fn require_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let live = match (&state.sandbox, session(&state, request.headers())) {
        (Some(access), Some(token)) => access.session_live(&token, state.clock.now()),
        _ => false,
    };
    if live {
        return next.run(request).await;
    }
    let wanted = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/sandbox/");
    let next: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", after_sign_in(Some(wanted)))
        .finish();
    web::see_other(&format!("/sandbox/signin?{next}"))
}

#[derive(Template)]
#[template(path = "sandbox/signin.html")]
struct SigninPage {
    chrome: Chrome,
    next: String,
    csrf: String,
}

#[derive(Deserialize)]
struct SigninQuery {
    next: Option<String>,
}

async fn signin_page(
    State(state): State<AppState>,
    Query(query): Query<SigninQuery>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let page = web::render(&SigninPage {
        chrome: Chrome {
            home: "/sandbox/".to_owned(),
            ..Chrome::hub("Sign in to the sandbox")
        },
        next: after_sign_in(query.next.as_deref()).to_owned(),
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
struct SigninForm {
    password: String,
    next: Option<String>,
}

async fn signin(
    State(state): State<AppState>,
    Client(client): Client,
    Posted { form, .. }: Posted<SigninForm>,
) -> Result<Response, PageError> {
    check_password(&state, client, Some(Secret::from_presented(form.password)))
        .map_err(|r| refused_page(r, "sandbox password"))?;
    let access = state.sandbox.as_ref().ok_or_else(PageError::internal)?;
    let token = access.open_session(state.clock.now());
    tracing::info!("sandbox: signed in");
    let mut response = web::see_other(after_sign_in(form.next.as_deref()));
    response.headers_mut().append(
        SET_COOKIE,
        web::cookie(
            &state,
            COOKIE.name(&state),
            token.expose(),
            "/",
            Some(SESSION_TTL.num_seconds()),
        ),
    );
    Ok(response)
}

async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: Posted,
) -> Result<Response, PageError> {
    if let (Some(access), Some(token)) = (&state.sandbox, session(&state, &headers)) {
        access.close_session(&token);
    }
    let mut response = web::see_other("/sandbox/signin");
    response.headers_mut().append(
        SET_COOKIE,
        web::cookie(&state, COOKIE.name(&state), "", "/", Some(0)),
    );
    Ok(response)
}
