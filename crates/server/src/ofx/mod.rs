//! The OFX Direct Connect door: `POST /ofx/:org_id`, one endpoint per organisation, where
//! Quicken, QuickBooks Desktop, GnuCash, ofxget and the like download the feeds of
//! `OFX_DIRECT_CONNECT` connections with the credentials `POST
//! /versioned/connections/:id/ofx_credentials` issued.
//!
//! OFX-level outcomes (a bad password, a locked user, an unknown account) are HTTP 200 with an
//! OFX `STATUS`, in the version the client spoke; HTTP errors are kept for what is not OFX at
//! all (400), an organisation that does not exist (404) and a client past its budget of failed
//! sign-ons (429, the `auth_failures_per_minute` limit every door shares). The body is read by
//! `bankfeeds_formats::ofx` and the answer written by its streaming writers.

mod answer;
mod signon;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bankfeeds_domain::OrgId;
use bankfeeds_formats::ofx::{parse_request, ResponseWriter, SgmlCharset};

use crate::client_limit::Client;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ofx/{org_id}", post(post_ofx))
}

/// The door's own HTTP errors: plain text `CODE: message`, since OFX clients show the body of
/// a failed exchange as text.
#[derive(Debug)]
pub struct OfxHttpError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl OfxHttpError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        OfxHttpError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for OfxHttpError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}: {}\n", self.code, self.message),
        )
            .into_response();
        if let Some(wait) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        r
    }
}

impl From<bankfeeds_store::StoreError> for OfxHttpError {
    fn from(e: bankfeeds_store::StoreError) -> Self {
        tracing::error!(error = %e, "OFX request failed in the store");
        OfxHttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the hub could not answer; try again",
        )
    }
}

impl From<bankfeeds_formats::FormatError> for OfxHttpError {
    fn from(e: bankfeeds_formats::FormatError) -> Self {
        tracing::error!(error = %e, "OFX answer could not be written");
        OfxHttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "the answer could not be written",
        )
    }
}

/// Answers one Direct Connect exchange.
async fn post_ofx(
    State(state): State<AppState>,
    Client(client): Client,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Response, OfxHttpError> {
    let not_found = || {
        OfxHttpError::new(
            StatusCode::NOT_FOUND,
            "ORGANISATION_NOT_FOUND",
            "no OFX endpoint here; use the url the credentials call gave",
        )
    };
    let org_id: OrgId = org_id.parse().map_err(|_| not_found())?;
    if let Some(wait) = state.auth_failures.as_ref().and_then(|f| f.blocked(client)) {
        state.metrics.rate_limited.inc();
        return Err(rate_limited(wait));
    }
    let org = state.store.get_org(org_id).await?.ok_or_else(not_found)?;
    let request = parse_request(&body)
        .map_err(|e| OfxHttpError::new(StatusCode::BAD_REQUEST, "MALFORMED_OFX", e.to_string()))?;
    let session = signon::sign_on(&state, &org, &request).await?;
    if session.counts_as_failure {
        if let Some(wait) = state.auth_failures.as_ref().and_then(|f| f.failed(client)) {
            state.metrics.rate_limited.inc();
            return Err(rate_limited(wait));
        }
    }
    let mut writer = ResponseWriter::start(
        Vec::new(),
        request.version,
        SgmlCharset::Utf8,
        &session.response,
    )?;
    if session.response.status.is_ok() {
        answer::answer_all(&state, &org, &session, &request, &mut writer).await?;
    }
    let out = writer.finish()?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ofx")],
        out,
    )
        .into_response())
}

fn rate_limited(wait: u64) -> OfxHttpError {
    OfxHttpError {
        retry_after: Some(wait),
        ..OfxHttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("too many failed sign-ons from this address; retry in {wait} s"),
        )
    }
}
