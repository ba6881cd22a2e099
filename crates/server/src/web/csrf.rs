//! CSRF protection for the hub's forms: the double-submit cookie pattern. A page that shows a
//! form sets a random token in an `HttpOnly`, `SameSite=Lax` cookie and puts the same token in
//! a hidden field; a post is accepted only when the two match (compared in constant time). A
//! page on another site can make the browser post, but cannot read the cookie to fill the field.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use base64::Engine;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// The token's cookie. Over https its `__Host-` name makes the browser keep it only if it is
/// `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant a token of its
/// own; only that name is read then. (Over plain http, as in development, a `__Host-` cookie
/// could not be set at all.)
const COOKIE: super::SiteCookie = super::SiteCookie {
    plain: "bf_csrf",
    host: "__Host-bf_csrf",
};
/// The hidden field every form carries.
pub const FIELD: &str = "csrf";

/// The hidden field, read from a posted form beside whatever else the form holds.
#[derive(Deserialize)]
struct Token {
    csrf: String,
}

pub struct Csrf {
    token: String,
    /// The cookie did not come with the request: the response must set it.
    fresh: bool,
}

impl Csrf {
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Refuses a posted token that does not match the cookie the browser sent.
    pub fn check(&self, presented: &str) -> Result<(), super::PageError> {
        if !self.fresh && bool::from(self.token.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(super::PageError::csrf())
        }
    }

    /// Reads a posted form (`web::form`) and refuses it unless its hidden token matches the
    /// cookie: the form first (`INVALID_FORM`), then the token (`CSRF_TOKEN_INVALID`).
    pub fn form<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, super::PageError> {
        let form = super::form(body)?;
        self.check_form(body)?;
        Ok(form)
    }

    /// Refuses a posted form (one with nothing else to read) unless its hidden token matches.
    pub fn check_form(&self, body: &[u8]) -> Result<(), super::PageError> {
        let Token { csrf } = super::form(body)?;
        self.check(&csrf)
    }

    /// Sets the cookie on a page that shows a form, when the browser does not have it yet.
    pub fn attach(&self, mut response: Response, state: &crate::state::AppState) -> Response {
        if self.fresh {
            response.headers_mut().append(
                header::SET_COOKIE,
                super::cookie(state, COOKIE.name(state), &self.token, "/", None),
            );
        }
        response
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl FromRequestParts<crate::state::AppState> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let name = COOKIE.name(state);
        if let Some(token) = cookie(&parts.headers, name).filter(|t| well_formed(t)) {
            return Ok(Csrf {
                token: token.to_owned(),
                fresh: false,
            });
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Ok(Csrf {
            token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            fresh: true,
        })
    }
}
