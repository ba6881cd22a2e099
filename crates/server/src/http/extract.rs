//! Body and query extractors whose every rejection is an `ApiError` with a precise code,
//! naming the offending field, instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

/// Largest request body accepted. A full 1000-transaction batch is well under 1 MiB.
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// A JSON body. Malformed JSON, missing fields, wrong types and unknown enum values each get
/// their own code, and the message names the field path.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json_body(req, state).await?;
        require_object(&bytes)?;
        parse_json(&bytes).map(Json)
    }
}

/// Every body the Rutter door takes is an object. serde would also read a struct from an array
/// by position, so `[null, null]` would pass for a body whose fields are all optional; refuse
/// anything but an object first.
pub fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    // Text that is no JSON at all is left to `parse_json`, which says `MALFORMED_JSON`.
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::bad_request(
            "INVALID_FIELD_TYPE",
            "the request body must be a JSON object",
        ));
    }
    Ok(())
}

/// The raw body of a JSON request: checks the content type and the size limit.
///
/// A body must be declared `application/json` (or `…+json`): a form or `text/plain` body is one
/// another site can make a browser send without asking (a CORS "simple" request), so a JSON API
/// that took undeclared bodies could be driven from any page its users visit. An empty body
/// needs no type, and is refused later as `MISSING_BODY` where a body is required.
pub async fn read_json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|ct| ct.to_str().unwrap_or_default().to_owned());
    if let Some(ct) = &declared {
        let mime = ct.split(';').next().unwrap_or_default().trim();
        if !(mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")) {
            return Err(ApiError::unsupported_media_type(format!(
                "request body must be application/json, not {mime:?}"
            )));
        }
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(BODY_LIMIT)
        } else {
            ApiError::bad_request("UNREADABLE_BODY", "the request body could not be read")
        }
    })?;
    if declared.is_none() && !bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::unsupported_media_type(
            "a request body needs the header Content-Type: application/json",
        ));
    }
    Ok(bytes)
}

/// Fields the hub or the platform sets and a request may not: sending one is `READ_ONLY_FIELD`
/// (an FI that copies a fetched resource into a write learns which part was ignored before),
/// any other field a request does not take is `UNKNOWN_FIELD`.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "feed_status",
    "transaction_ready",
    "last_synced_at",
    "created_at",
    "updated_at",
    "platform_data",
];

/// Parses JSON, classifying failures into stable codes.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "MISSING_BODY",
            "a JSON request body is required",
        ));
    }
    // PostgreSQL text cannot hold NUL, and no bank data needs it: refuse it for every backend.
    if has_escaped_nul(bytes) {
        return Err(ApiError::bad_request(
            "INVALID_FIELD_VALUE",
            "strings must not contain the NUL character (\\u0000)",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = inner.to_string();
        let code = match inner.classify() {
            // serde_json reports some type errors (a number where an enum goes) as syntax
            // errors; if the body parses as plain JSON, the fault is the type, not the syntax.
            serde_json::error::Category::Syntax
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
            {
                "INVALID_FIELD_TYPE"
            }
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                return ApiError::bad_request(
                    "MALFORMED_JSON",
                    format!("request body is not valid JSON: {detail}"),
                );
            }
            serde_json::error::Category::Io => "UNREADABLE_BODY",
            serde_json::error::Category::Data if detail.starts_with("missing field") => {
                "MISSING_FIELD"
            }
            // A misspelt field would otherwise be dropped without a word (`descripton` stored as
            // no description at all).
            serde_json::error::Category::Data if detail.starts_with("unknown field") => {
                let named = detail.split('`').nth(1).unwrap_or_default();
                if READ_ONLY_FIELDS.contains(&named) {
                    "READ_ONLY_FIELD"
                } else {
                    "UNKNOWN_FIELD"
                }
            }
            serde_json::error::Category::Data if detail.starts_with("unknown variant") => {
                "INVALID_ENUM_VALUE"
            }
            serde_json::error::Category::Data if detail.starts_with("invalid type") => {
                "INVALID_FIELD_TYPE"
            }
            serde_json::error::Category::Data => "INVALID_FIELD_VALUE",
        };
        let at = if path == "." {
            "request body".to_owned()
        } else {
            format!("field `{path}`")
        };
        ApiError::bad_request(code, format!("{at}: {detail}"))
    })?;
    // One JSON value, then only whitespace: the body is kept as sent, so it must be JSON whole.
    de.end().map_err(|e| {
        ApiError::bad_request(
            "MALFORMED_JSON",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// Whether the text holds `\u0000` (any case): checked at each backslash only, as a body is
/// mostly anything else.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'\\'
            && bytes
                .get(i..i + 6)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"\\u0000"))
    })
}

/// Query parameters, with `INVALID_QUERY_PARAMETER` naming the parameter on failure.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::bad_request(
                    "INVALID_QUERY_PARAMETER",
                    format!("query parameter `{path}`: {}", e.into_inner()),
                )
            })
    }
}

/// One query parameter by name, without parsing the rest.
pub fn query_param(parts: &Parts, name: &str) -> Option<String> {
    let query = parts.uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
