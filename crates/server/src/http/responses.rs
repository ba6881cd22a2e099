//! The error answers an operation declares in the OpenAPI document, as response sets listed in
//! its `responses(…)` beside its success: `Refusals` (400 bad input, 401 authentication) for
//! every authenticated operation, `Conflict` (409) and `Gone` (410) where they apply. Each is the
//! error body (`ErrorOut`), so a generated client parses every refusal the same way.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

fn error_answers(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorOut")))
                .build();
            let answer = ResponseBuilder::new()
                .description("")
                .content("application/json", body)
                .build();
            (status.to_string(), answer.into())
        })
        .collect()
}

macro_rules! error_set {
    ($($(#[$doc:meta])* $name:ident => [$($status:literal),+];)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_answers(&[$($status),+])
            }
        }
    )+};
}

error_set! {
    /// 400 (the request is malformed or breaks a rule) and 401 (no or wrong credentials).
    Refusals => [400, 401];
    /// 401 alone: an operation with nothing to refuse but its caller.
    Unauthorized => [401];
    /// 409: the request conflicts with what is stored.
    Conflict => [409];
    /// 410: the resource was deleted, or never existed in this organisation.
    Gone => [410];
}
