//! Query parameters an operation does not declare are refused, not ignored.
//!
//! A misspelled `limt=5` or a filter the hub does not implement (`updated_at_min`) would
//! otherwise answer 200 with every row, which a client cannot tell from success. The accepted
//! names come from the OpenAPI document itself, so the document and the server cannot drift
//! apart: whatever the document declares for the route's method and path is accepted, anything
//! else is `400 UNKNOWN_QUERY_PARAMETER`. Routes the document does not describe pass untouched.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::OpenApi;

use crate::http::error::ApiError;

/// Declared query parameter names by (method, path template as axum matches it).
#[derive(Debug, Default)]
pub struct QueryContract {
    declared: HashMap<(String, String), BTreeSet<String>>,
}

impl QueryContract {
    pub fn from_document(doc: &OpenApi) -> Arc<Self> {
        let mut declared = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let shared = item.parameters.iter().flatten();
            for (method, op) in operations(item) {
                let names = shared
                    .clone()
                    .chain(op.parameters.iter().flatten())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                declared.insert((method.as_str().to_owned(), path.clone()), names);
            }
        }
        Arc::new(Self { declared })
    }

    /// The first query parameter the operation does not declare, with what it does declare.
    fn unknown<'a>(
        &'a self,
        method: &str,
        path: &str,
        query: &str,
    ) -> Option<(String, &'a BTreeSet<String>)> {
        let names = self.declared.get(&(method.to_owned(), path.to_owned()))?;
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k)
            .find(|k| !names.contains(k.as_ref()))
            .map(|k| (k.into_owned(), names))
    }
}

/// The operations a path of the document declares, by method (the ones the doors use).
pub fn operations(item: &PathItem) -> impl Iterator<Item = (Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
}

/// The middleware: apply with `route_layer` so `MatchedPath` is known.
pub async fn check(contract: Arc<QueryContract>, req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|m| m.as_str());
    if let (Some(path), Some(query)) = (path, req.uri().query()) {
        if let Some((name, declared)) = contract.unknown(req.method().as_str(), path, query) {
            let takes = if declared.is_empty() {
                "it takes none".to_owned()
            } else {
                let list: Vec<_> = declared.iter().map(String::as_str).collect();
                format!("it takes {}", list.join(", "))
            };
            return ApiError::bad_request(
                "UNKNOWN_QUERY_PARAMETER",
                format!("query parameter `{name}` is not one this operation takes ({takes})"),
            )
            .into_response();
        }
    }
    next.run(req).await
}
