//! `Idempotency-Key` on POST and PATCH: the first accepted outcome is replayed for the same key
//! and request; the same key with a different request is a 409. Keys are per organisation.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::job::RawJson;
use bankfeeds_domain::OrgId;
use bankfeeds_store::{Idem, IdempotencyKey, StoredResponse};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::http::extract::{parse_json, read_json_body, require_object};

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;

/// A JSON body, parsed once, together with its text, the caller's idempotency key (if any) and,
/// with a key, a fingerprint of the request (method, path, query, body).
pub struct IdempotentJson<T> {
    pub body: T,
    key: Option<String>,
    /// Set exactly when `key` is.
    fingerprint: Option<String>,
    raw: RawJson,
}

impl<T> IdempotentJson<T> {
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The body exactly as sent (one JSON value, surrounding whitespace trimmed).
    pub fn raw_body(&self) -> &RawJson {
        &self.raw
    }

    pub fn key_for(&self, org: OrgId) -> Option<IdempotencyKey> {
        let fingerprint = self.fingerprint.as_ref()?;
        self.key.as_ref().map(|key| IdempotencyKey {
            org_id: org,
            key: key.clone(),
            fingerprint: fingerprint.clone(),
        })
    }
}

impl<T, S> FromRequest<S> for IdempotentJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = match req.headers().get(HEADER) {
            None => None,
            Some(v) => {
                let k = v.to_str().unwrap_or_default().trim().to_owned();
                if k.is_empty() || k.len() > MAX_KEY_LEN {
                    return Err(ApiError::bad_request(
                        "INVALID_IDEMPOTENCY_KEY",
                        format!(
                            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
                        ),
                    ));
                }
                Some(k)
            }
        };
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str());
        hasher.update(b" ");
        hasher.update(req.uri().path());
        hasher.update(b"?");
        hasher.update(req.uri().query().unwrap_or_default());
        hasher.update(b"\n");
        let bytes = read_json_body(req, state).await?;
        require_object(&bytes)?;
        let body = parse_json::<T>(&bytes)?;
        // `parse_json` accepted the whole body as one JSON value; only its text is still needed.
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            ApiError::bad_request(
                "MALFORMED_JSON",
                "request body is not valid JSON: it is not UTF-8",
            )
        })?;
        let raw = RawJson::trusted(text.trim_matches(|c: char| c.is_ascii_whitespace()));
        // Only a request with a key needs a fingerprint. It hashes a canonical form, so
        // whitespace and key order do not make a retry "different".
        let fingerprint = match key {
            Some(_) => {
                let canonical: serde_json::Value = parse_json(&bytes)?;
                hasher.update(canonical.to_string());
                Some(hex::encode(hasher.finalize()))
            }
            None => None,
        };
        Ok(Self {
            body,
            key,
            fingerprint,
            raw,
        })
    }
}

/// Answers with a saved response, marked as a replay.
pub fn replay(saved: StoredResponse) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        saved.body,
    )
        .into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Renders a JSON body as it will be saved for replays.
/// What the store needs to keep a request's answer under its key: nothing when the request
/// came without one.
pub fn idem<'a, T>(
    key: &'a Option<IdempotencyKey>,
    render: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
) -> Option<Idem<'a, T>> {
    key.as_ref().map(|key| Idem { key, render })
}

pub fn saved<T: serde::Serialize>(status: u16, body: &T) -> StoredResponse {
    StoredResponse {
        status,
        body: serde_json::to_string(body).expect("responses serialise"),
    }
}
