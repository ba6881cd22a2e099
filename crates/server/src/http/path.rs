//! A value the path names, parsed before the handler runs: `InPath<T>` for every `T` that says
//! how it reads one segment and what it answers when the segment is not one. An operation's
//! document declares the parameter with `params(InPath<T>)`, from the same type.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::IntoParams;

use crate::http::error::ApiError;

/// The route's one path parameter as a `T`, or `T`'s refusal (a 400 with a stable code).
pub struct InPath<T>(pub T);

/// A value one path segment holds.
pub trait PathSegment: Sized {
    fn from_segment(raw: &str) -> Result<Self, ApiError>;
}

/// An id a request names: `INVALID_ID` naming the kind (`WHAT`) when the text is not one.
pub trait NamedId: std::str::FromStr {
    /// What a refusal calls it ("webhook", "bank feed account").
    const WHAT: &'static str;
}

/// An id from the path or a query parameter: `INVALID_ID` naming its kind when it is not one.
pub fn parse_id<T: NamedId>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_request("INVALID_ID", format!("{raw:?} is not a {} id", T::WHAT))
    })
}

impl<T: NamedId> PathSegment for T {
    fn from_segment(raw: &str) -> Result<Self, ApiError> {
        parse_id(raw)
    }
}

/// The document's word for an id's path parameter: `{id}`, a UUID, "The webhook's id".
impl<T: NamedId> IntoParams for InPath<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let uuid = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
        vec![ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .description(Some(format!("The {}'s id", T::WHAT)))
            .required(utoipa::openapi::Required::True)
            .schema(Some(uuid))
            .build()]
    }
}

impl<T: PathSegment, S: Send + Sync> FromRequestParts<S> for InPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        T::from_segment(&raw)
            .map(InPath)
            .map_err(IntoResponse::into_response)
    }
}
