//! A URL whose id segment is empty (`…/accounts/` for `…/accounts/{id}`) answers 400
//! `INVALID_ID`, as any other malformed id does, not 404 "no such endpoint".
//!
//! The router cannot match an empty parameter, so such a request would fall through to the
//! unknown-route answer, which sends a client that interpolated an empty variable looking for
//! a typo in the path. The templates come from the door's OpenAPI document, as the query
//! contract's do, so the two cannot drift apart.

use std::sync::Arc;

use axum::http::Method;
use utoipa::openapi::OpenApi;

use crate::http::error::ApiError;
use crate::http::query_contract::operations;

/// One segment of a path template: fixed text, or a parameter's name.
#[derive(Debug)]
enum Segment {
    Fixed(String),
    Param(String),
}

/// The document's path templates, each with the methods it takes.
#[derive(Debug, Default)]
pub struct EmptySegments {
    templates: Vec<(Vec<Method>, Vec<Segment>)>,
}

impl EmptySegments {
    pub fn from_document(doc: &OpenApi) -> Arc<Self> {
        let templates = doc
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.contains('{'))
            .map(|(path, item)| {
                let methods = operations(item).map(|(method, _)| method).collect();
                let segments = path
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Segment::Param(name.to_owned()),
                            None => Segment::Fixed(s.to_owned()),
                        },
                    )
                    .collect();
                (methods, segments)
            })
            .collect();
        Arc::new(Self { templates })
    }

    /// The refusal for a request that names an operation of the document with one of its
    /// parameters empty; `None` when it names none (then it is an unknown route).
    pub fn refusal(&self, method: &Method, path: &str) -> Option<ApiError> {
        let given: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(methods, segments)| methods.contains(method) && segments.len() == given.len())
            .find_map(|(_, segments)| empty_param(segments, &given))
            .map(|name| {
                ApiError::bad_request(
                    "INVALID_ID",
                    format!("the path's `{name}` is empty; it must name a resource"),
                )
            })
    }
}

/// The first empty parameter, when every fixed segment matches and every parameter is either
/// filled or empty; `None` when the path is not this template or no parameter is empty.
fn empty_param<'a>(segments: &'a [Segment], given: &[&str]) -> Option<&'a str> {
    let mut empty = None;
    for (segment, text) in segments.iter().zip(given) {
        match segment {
            Segment::Fixed(fixed) if fixed != text => return None,
            Segment::Fixed(_) => {}
            Segment::Param(name) if text.is_empty() => {
                empty.get_or_insert(name.as_str());
            }
            Segment::Param(_) => {}
        }
    }
    empty
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    fn doc() -> Arc<EmptySegments> {
        let item = |method| PathItem::new(method, OperationBuilder::new().build());
        let paths = PathsBuilder::new()
            .path("/v/accounts", item(HttpMethod::Get))
            .path("/v/accounts/{id}", item(HttpMethod::Patch))
            .path("/v/accounts/{id}/breaks/{break_id}", item(HttpMethod::Post))
            .build();
        EmptySegments::from_document(&OpenApiBuilder::new().paths(paths).build())
    }

    #[test]
    fn an_empty_parameter_of_a_documented_operation_is_refused_by_name() {
        let doc = doc();
        let code = |m: &Method, p: &str| doc.refusal(m, p).map(|e| e.code);
        assert_eq!(code(&Method::PATCH, "/v/accounts/"), Some("INVALID_ID"));
        let msg = doc.refusal(&Method::POST, "/v/accounts/a/breaks/").unwrap();
        assert!(msg.message.contains("`break_id`"), "{}", msg.message);
        let msg = doc.refusal(&Method::POST, "/v/accounts//breaks/").unwrap();
        assert!(msg.message.contains("`id`"), "{}", msg.message);
    }

    #[test]
    fn other_paths_and_methods_stay_unknown_routes() {
        let doc = doc();
        // Every parameter filled: the router would have matched it, so nothing to say here.
        assert!(doc.refusal(&Method::PATCH, "/v/accounts/a").is_none());
        // The template does not take this method.
        assert!(doc.refusal(&Method::DELETE, "/v/accounts/").is_none());
        // Another fixed segment, or another length.
        assert!(doc.refusal(&Method::PATCH, "/v/account/").is_none());
        assert!(doc.refusal(&Method::POST, "/v/accounts//breaks").is_none());
        assert!(doc.refusal(&Method::GET, "/v/nothing/").is_none());
    }
}
