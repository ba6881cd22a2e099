//! CSRF protection for the hub's forms: the double-submit cookie pattern. A page that shows a
//! form sets a random token in an `HttpOnly`, `SameSite=Lax` cookie and puts the same token in
//! a hidden field; a post is accepted only when the two match (compared in constant time). A
//! page on another site can make the browser post, but cannot read the cookie to fill the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
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

/// The hidden field, read from a posted form beside whatever else the form holds. Missing, it
/// is refused as a token that does not match (403), as a cross-site post would be, not as a
/// malformed form (400).
#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// A posted form whose hidden token matches the cookie, read as a `T`: the form first
/// (`INVALID_FORM`), then the token (`CSRF_TOKEN_INVALID`). `csrf` sets the cookie again on a
/// page the handler answers with. The default `T` is a form with nothing else to read.
pub struct Posted<T = TokenOnly> {
    pub form: T,
    pub csrf: Csrf,
}

/// A form that carries only its token (sign out, a confirmation button).
#[derive(Deserialize)]
pub struct TokenOnly {}

impl<T: DeserializeOwned> FromRequest<crate::state::AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &crate::state::AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(csrf) = Csrf::from_request_parts(&mut parts, state).await;
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let checked = super::form(&body).and_then(|form| {
            let Token { csrf: presented } = super::form(&body)?;
            csrf.check(&presented).map(|()| form)
        });
        let form = checked.map_err(IntoResponse::into_response)?;
        Ok(Posted { form, csrf })
    }
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
