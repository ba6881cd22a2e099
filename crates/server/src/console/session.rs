//! Who is signed in to the console: the session cookie, checked against the database on every
//! request (so a sign-out, an expiry or a disabled operator takes effect at once, on every
//! instance). A page asked for without a live session sends the browser to sign in.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::operator::{Operator, SESSION_TTL};
use bankfeeds_domain::Secret;

use crate::state::AppState;
use crate::web::{self, csrf, PageError};

/// The session cookie (see `web::csrf` for why `__Host-` over https).
pub(super) const COOKIE: web::SiteCookie = web::SiteCookie {
    plain: "bf_console",
    host: "__Host-bf_console",
};

/// The signed-in operator of a console page.
pub struct ConsoleSession {
    pub operator: Operator,
}

/// The session token the browser sent, if any.
pub(super) fn token(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Secret> {
    csrf::cookie(headers, COOKIE.name(state)).map(Secret::from_presented)
}

/// The `Set-Cookie` of a session (`None`: the deletion of the cookie). `SameSite=Strict`: no
/// other site can make the browser send it, not even with a top-level link.
pub(super) fn set_cookie(state: &AppState, token: Option<&Secret>) -> HeaderValue {
    let (value, age) = match token {
        Some(t) => (t.expose(), SESSION_TTL.num_seconds()),
        None => ("", 0),
    };
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}",
        COOKIE.name(state)
    );
    if state.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("the hub's cookies are plain ASCII")
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = token(state, &parts.headers) {
            let found = state
                .store
                .session_operator(&token.hash(), state.clock.now())
                .await
                .map_err(|e| PageError::from(e).into_response())?;
            if let Some(operator) = found {
                return Ok(ConsoleSession { operator });
            }
        }
        let mut to_login = web::see_other("/console/login");
        // A stale cookie is dropped so the browser stops sending it.
        if token(state, &parts.headers).is_some() {
            to_login
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(state, None));
        }
        Err(to_login)
    }
}
