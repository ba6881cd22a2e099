//! Authentication extractors: who is calling (the organisation, by HTTP Basic) and for which
//! customer (the connection, by `?access_token=`). They run before the handler body. Failed
//! attempts, and the routes that need no credentials, are limited per client address.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::{Connection, Org, Secret};
use base64::Engine;
use governor::clock::{Clock as _, DefaultClock};

use crate::client_limit::client_key;
use crate::http::error::ApiError;
use crate::http::extract::query_param;
use crate::state::AppState;

/// The API versions accepted in `X-Rutter-Version`. All answer with today's shapes.
pub const API_VERSIONS: &[&str] = &[
    "2023-02-07",
    "2023-03-14",
    "2024-04-30",
    "2024-08-31",
    "unstable",
];
pub const DEFAULT_API_VERSION: &str = "2024-08-31";

/// The calling organisation, authenticated by `Authorization: Basic base64(client_id:client_secret)`.
#[derive(Debug, Clone)]
pub struct OrgAuth(pub Org);

impl FromRequestParts<AppState> for OrgAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<OrgAuth>() {
            return Ok(cached.clone());
        }
        check_version(parts)?;
        refuse_blocked_client(parts, state)?;
        let (client_id, secret) =
            basic_credentials(parts).map_err(|e| count_failure(parts, state, e))?;
        let credential = state.store.find_org_credential(&client_id).await?;
        let org = match credential {
            Some(c) if c.client_secret_hash.verify(&secret) => c.org,
            // Client ids are not secret; only the secret comparison needs to be constant time.
            Some(_) | None => {
                let refused = ApiError::unauthorized(
                    "INVALID_CREDENTIALS",
                    "the client id and secret do not match any organisation",
                );
                return Err(count_failure(parts, state, refused));
            }
        };
        if org.is_disabled() {
            // The right credential: not a failure to count against the client.
            return Err(ApiError::unauthorized(
                "ORGANISATION_DISABLED",
                "this organisation is disabled on this hub; its operator can enable it again",
            ));
        }
        if let Some(limiter) = &state.limiter {
            if let Err(not_until) = limiter.check_key(&org.id) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                state.metrics.rate_limited.inc();
                return Err(ApiError::rate_limited(wait.as_secs_f64().ceil() as u64));
            }
        }
        tracing::Span::current().record("org_id", tracing::field::display(org.id));
        let auth = OrgAuth(org);
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// A client that has spent its budget of failed authentications is refused before its
/// credentials are looked at, so guessing costs the hub nothing and gains the client nothing.
fn refuse_blocked_client(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
    let Some(failures) = &state.auth_failures else {
        return Ok(());
    };
    match failures.blocked(client_key(&parts.extensions)) {
        Some(wait) => {
            state.metrics.rate_limited.inc();
            Err(ApiError::client_rate_limited(wait))
        }
        None => Ok(()),
    }
}

/// Counts a failed authentication against the client; the one that spends its budget is
/// answered 429 instead of `refused`.
fn count_failure(parts: &Parts, state: &AppState, refused: ApiError) -> ApiError {
    let Some(failures) = &state.auth_failures else {
        return refused;
    };
    match failures.failed(client_key(&parts.extensions)) {
        Some(wait) => {
            state.metrics.rate_limited.inc();
            ApiError::client_rate_limited(wait)
        }
        None => refused,
    }
}

/// Middleware for the routes that need no credentials (link pages, sandbox, demo bank): a
/// generous budget per client address.
pub async fn limit_anonymous(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.anonymous_limiter {
        if let Err(wait) = limiter.check(client_key(request.extensions())) {
            state.metrics.rate_limited.inc();
            return ApiError::client_rate_limited(wait).into_response();
        }
    }
    next.run(request).await
}

fn check_version(parts: &Parts) -> Result<(), ApiError> {
    let Some(v) = parts.headers.get("x-rutter-version") else {
        return Ok(());
    };
    match v.to_str() {
        Ok(v) if API_VERSIONS.contains(&v) => Ok(()),
        _ => Err(ApiError::bad_request(
            "UNSUPPORTED_API_VERSION",
            format!(
                "X-Rutter-Version must be one of {}",
                API_VERSIONS.join(", ")
            ),
        )),
    }
}

fn basic_credentials(parts: &Parts) -> Result<(String, Secret), ApiError> {
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "MISSING_CREDENTIALS",
            "send HTTP Basic credentials: Authorization: Basic base64(client_id:client_secret)",
        ));
    };
    let malformed = || {
        ApiError::unauthorized(
            "MALFORMED_CREDENTIALS",
            "the Authorization header must be `Basic base64(client_id:client_secret)`",
        )
    };
    let value = header.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (client_id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    if client_id.is_empty() || secret.is_empty() {
        return Err(malformed());
    }
    Ok((client_id.to_owned(), Secret::from_presented(secret)))
}

/// The connection named by `?access_token=`, which must belong to the calling organisation and
/// not be deleted.
#[derive(Debug, Clone)]
pub struct ConnectionAuth {
    pub org: Org,
    pub connection: Connection,
}

impl FromRequestParts<AppState> for ConnectionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let OrgAuth(org) = OrgAuth::from_request_parts(parts, state).await?;
        let token = query_param(parts, "access_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "MISSING_ACCESS_TOKEN",
                    "the `access_token` query parameter is required",
                )
            })?;
        let found = state
            .store
            .find_connection_by_token(&Secret::from_presented(token).hash())
            .await?;
        // Another organisation's token is answered exactly like an unknown one.
        let connection = found.filter(|c| c.org_id == org.id).ok_or_else(|| {
            let refused = ApiError::unauthorized(
                "INVALID_ACCESS_TOKEN",
                "the access token matches no connection",
            );
            count_failure(parts, state, refused)
        })?;
        if connection.is_deleted() {
            return Err(ApiError::unauthorized(
                "CONNECTION_DELETED",
                "this connection was deleted; its access token no longer works",
            ));
        }
        Ok(ConnectionAuth { org, connection })
    }
}
