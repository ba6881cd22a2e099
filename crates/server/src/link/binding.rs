//! A link challenge belongs to the browser that started it. Starting a link ("connect your
//! bank") gives the browser a binding: a random nonce in an `HttpOnly` cookie (`__Host-`
//! prefixed over https), whose digest is stored with the challenge. The redirect back from the
//! FI is accepted only from a browser presenting it, so a link someone else started, sent to a
//! victim to finish with their own bank login, connects nothing. A browser keeps one binding
//! for all the links it starts (each "connect" refreshes its lifetime), so links opened in two
//! tabs both stay usable. The JSON interface hands its binding to the client instead.

use axum::http::{HeaderMap, HeaderValue};
use bankfeeds_domain::link::CHALLENGE_TTL;
use bankfeeds_domain::{Secret, SecretHash, SecretKind};

use crate::state::AppState;
use crate::web::{self, csrf};

/// The binding's cookie (see `web::csrf` for why `__Host-` over https).
const COOKIE: web::SiteCookie = web::SiteCookie {
    plain: "bf_binding",
    host: "__Host-bf_binding",
};

/// What a binding the hub generated looks like (`bfbb_` and 43 base64url characters).
fn well_formed(value: &str) -> bool {
    let prefix = SecretKind::BrowserBinding.prefix();
    value.len() == prefix.len() + 43
        && value.starts_with(prefix)
        && value[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The digest of the binding the browser presents, if any.
pub fn presented(state: &AppState, headers: &HeaderMap) -> Option<SecretHash> {
    csrf::cookie(headers, COOKIE.name(state))
        .filter(|v| well_formed(v))
        .map(|v| Secret::from_presented(v).hash())
}

/// The binding of the browser starting a link: the one it holds, or a new one; with the
/// `Set-Cookie` that gives it to the browser (or refreshes it) for a challenge's lifetime.
pub fn for_browser(state: &AppState, headers: &HeaderMap) -> (SecretHash, HeaderValue) {
    let secret = csrf::cookie(headers, COOKIE.name(state))
        .filter(|v| well_formed(v))
        .map(Secret::from_presented)
        .unwrap_or_else(|| Secret::generate(SecretKind::BrowserBinding));
    let cookie = web::cookie(
        state,
        COOKIE.name(state),
        secret.expose(),
        "/",
        Some(CHALLENGE_TTL.num_seconds()),
    );
    (secret.hash(), cookie)
}

/// A binding for a client of the JSON interface, which it sends back with the redirect.
pub fn for_client() -> Secret {
    Secret::generate(SecretKind::BrowserBinding)
}
