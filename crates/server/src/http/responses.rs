//! The error answers an operation declares in the OpenAPI document, as response sets listed in
//! its `responses(…)` beside its success: `Refusals` (400 bad input, 401 authentication, 429
//! throttled) for every authenticated operation, `BodyRefusals` (413, 415) for every operation
//! that takes a body, `Conflict` (409) and `Gone` (410) where they apply. Each is the error body
//! (`ErrorOut`), so a generated client parses every refusal the same way.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// Each status answered with the error body named `schema` (`ErrorOut` on the Rutter-shaped
/// door, `ErrorMessage` on the Codat door).
pub fn error_answers(schema: &str, statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build();
            let answer = ResponseBuilder::new()
                .description(meaning(*status))
                .content("application/json", body)
                .build();
            (status.to_string(), answer.into())
        })
        .collect()
}

/// What each refusal status means, as the document says it (`error_code` says exactly why).
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed or breaks a rule",
        401 => "Missing or wrong credentials or access token",
        404 => "No such resource (deleted, or not this organisation's)",
        409 => "The request conflicts with what is stored",
        410 => "No such resource (deleted, or not this organisation's)",
        413 => "The body is larger than 8 MiB (`PAYLOAD_TOO_LARGE`)",
        415 => "A body not sent as `application/json` (`UNSUPPORTED_CONTENT_TYPE`)",
        429 => "Too many failed authentications from this client (`RATE_LIMITED`); wait `Retry-After` seconds",
        _ => "",
    }
}

/// Response sets: each a unit struct whose `IntoResponses` declares these statuses with the
/// error body `$schema`.
#[macro_export]
macro_rules! error_set {
    ($schema:literal: $($(#[$doc:meta])* $name:ident => [$($status:literal),+];)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::http::responses::error_answers($schema, &[$($status),+])
            }
        }
    )+};
}

error_set! {
    "ErrorOut":
    /// 400 (the request is malformed or breaks a rule), 401 (no or wrong credentials) and 429
    /// (this client failed authentication too often).
    Refusals => [400, 401, 429];
    /// 401 and 429 alone: an operation with nothing to refuse but its caller.
    Unauthorized => [401, 429];
    /// 413 and 415: what the hub refuses of any body before reading it.
    BodyRefusals => [413, 415];
    /// 409: the request conflicts with what is stored.
    Conflict => [409];
    /// 410: the resource was deleted, or never existed in this organisation.
    Gone => [410];
}
