//! Codat's list conventions: `page` (from 1), `pageSize` (1 to 5000, default 100), `query`,
//! `orderBy`, and for companies `tags`; answers are `{results, pageNumber, pageSize,
//! totalResults, _links{self, current, next?, previous?}}`. The SDK refuses a page without
//! `_links.self` and `_links.current`.
//!
//! Lists are filtered and sorted on the resources' JSON form, as the API shows them, so every
//! visible property can be queried. The organisation's resources are read whole for that; fine
//! for companies and connections. Push operations are listed from their jobs' heads (no
//! bodies) when the query and order read only what a head decides (`reads_only`), and only the
//! page is rendered whole.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use bankfeeds_domain::codat::query::{OrderBy, Query};
use serde::Serialize;
use serde_json::Value;

use super::error::{CodatError, CodatResult};
use super::wire::{Link, Links, Page};

pub const MAX_PAGE_SIZE: u32 = 5000;
pub const DEFAULT_PAGE_SIZE: u32 = 100;

#[derive(Debug)]
pub struct ListParams {
    pub page: u32,
    pub page_size: u32,
    pub query: Option<Query>,
    pub order_by: Option<OrderBy>,
    /// Companies only: a query over the company's tags.
    pub tags: Option<Query>,
    /// The other parameters, kept for the links.
    extra: Vec<(String, String)>,
}

fn malformed(e: impl std::fmt::Display) -> CodatError {
    CodatError::bad_request("MALFORMED_QUERY", e.to_string())
}

impl ListParams {
    pub fn parse(raw: Option<&str>) -> CodatResult<Self> {
        let mut p = ListParams {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            query: None,
            order_by: None,
            tags: None,
            extra: Vec::new(),
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match &*k {
                "page" => {
                    p.page = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        CodatError::bad_request(
                            "INVALID_PAGE",
                            "`page` must be a whole number from 1",
                        )
                    })?;
                }
                "pageSize" => {
                    p.page_size = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                        .ok_or_else(|| {
                            CodatError::bad_request(
                                "INVALID_PAGE_SIZE",
                                format!(
                                    "`pageSize` must be a whole number from 1 to {MAX_PAGE_SIZE}"
                                ),
                            )
                        })?;
                }
                "query" if !v.trim().is_empty() => {
                    p.query = Some(Query::parse(&v).map_err(malformed)?);
                    p.extra.push(("query".into(), v.into_owned()));
                }
                "orderBy" if !v.trim().is_empty() => {
                    p.order_by = Some(OrderBy::parse(&v).map_err(malformed)?);
                    p.extra.push(("orderBy".into(), v.into_owned()));
                }
                "tags" if !v.trim().is_empty() => {
                    p.tags = Some(Query::parse(&v).map_err(malformed)?);
                    p.extra.push(("tags".into(), v.into_owned()));
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// Whether the query and the order read only these top-level properties (matched as the
    /// query matches them, ignoring case) and no tags: then a list may be filtered, sorted and
    /// paged on a partial form of its resources, and only the page rendered whole.
    pub fn reads_only(&self, fields: &[&str]) -> bool {
        let known = |path: &[String]| {
            path.len() == 1 && fields.iter().any(|f| f.eq_ignore_ascii_case(&path[0]))
        };
        self.tags.is_none()
            && self
                .query
                .as_ref()
                .is_none_or(|q| q.paths().into_iter().all(known))
            && self.order_by.as_ref().is_none_or(|o| known(&o.path))
    }

    fn href(&self, path: &str, page: u32) -> Link {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("page", &page.to_string());
        q.append_pair("pageSize", &self.page_size.to_string());
        for (k, v) in &self.extra {
            q.append_pair(k, v);
        }
        Link {
            href: format!("{path}?{}", q.finish()),
        }
    }

    /// Filters, sorts and pages resources, in their JSON form (so any property shown can be
    /// queried), into Codat's envelope.
    pub fn page<T: Serialize>(&self, items: Vec<T>, path: &str) -> Page<Value> {
        let mut items: Vec<Value> = items
            .into_iter()
            .map(|i| serde_json::to_value(i).expect("a wire type serialises"))
            .collect();
        if let Some(q) = &self.query {
            items.retain(|i| q.matches(i));
        }
        if let Some(t) = &self.tags {
            items.retain(|i| t.matches(i.get("tags").unwrap_or(&Value::Null)));
        }
        if let Some(o) = &self.order_by {
            o.sort(&mut items);
        }
        let total = items.len();
        let start = (self.page as usize - 1).saturating_mul(self.page_size as usize);
        let results: Vec<Value> = items
            .into_iter()
            .skip(start)
            .take(self.page_size as usize)
            .collect();
        let links = Links {
            this: Link {
                href: path.to_owned(),
            },
            current: self.href(path, self.page),
            next: (start + results.len() < total).then(|| self.href(path, self.page + 1)),
            previous: (self.page > 1 && total > 0).then(|| self.href(path, self.page - 1)),
        };
        Page {
            results,
            page_number: self.page,
            page_size: self.page_size,
            total_results: total,
            links,
        }
    }
}

/// A list operation's request: its parameters, read from the query (refused with the codes of
/// `ListParams::parse`), and the path its page's links name.
pub struct Listing {
    pub params: ListParams,
    path: String,
}

impl Listing {
    /// Filters, sorts and pages resources into Codat's envelope (`ListParams::page`).
    pub fn page<T: Serialize>(&self, items: Vec<T>) -> Page<Value> {
        self.params.page(items, &self.path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Listing {
    type Rejection = CodatError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> CodatResult<Self> {
        let params = ListParams::parse(parts.uri.query())?;
        let Ok(OriginalUri(uri)) = OriginalUri::from_request_parts(parts, state).await;
        Ok(Listing {
            params,
            path: uri.path().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"n": i, "status": if i % 2 == 0 { "Even" } else { "Odd" }}))
            .collect()
    }

    #[test]
    fn a_list_knows_which_properties_it_reads() {
        let fields = &["status", "requestedOnUtc"];
        let reads = |q: &str| ListParams::parse(Some(q)).unwrap().reads_only(fields);
        assert!(reads(""));
        assert!(reads("query=STATUS%3DFailed&orderBy=-requestedOnUtc"));
        assert!(reads("query=status%3DFailed%7C%7Cstatus%3DPending"));
        assert!(!reads("query=status%3DFailed%26%26errorMessage~x"));
        assert!(!reads("orderBy=errorMessage"));
        assert!(!reads("query=status.code%3D1"));
        assert!(!reads("tags=region%3Duk"));
    }

    #[test]
    fn pages_carry_their_links() {
        let p =
            ListParams::parse(Some("page=2&pageSize=3&query=status%3DEven&orderBy=-n")).unwrap();
        let page = serde_json::to_value(p.page(items(20), "/codat/companies")).unwrap();
        assert_eq!(page["totalResults"], 10);
        let ns: Vec<i64> = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["n"].as_i64().unwrap())
            .collect();
        assert_eq!(ns, vec![12, 10, 8]);
        assert_eq!(page["_links"]["self"]["href"], "/codat/companies");
        assert_eq!(
            page["_links"]["current"]["href"],
            "/codat/companies?page=2&pageSize=3&query=status%3DEven&orderBy=-n"
        );
        assert!(page["_links"]["next"]["href"]
            .as_str()
            .unwrap()
            .contains("page=3"));
        assert!(page["_links"]["previous"]["href"]
            .as_str()
            .unwrap()
            .contains("page=1"));
        let last = serde_json::to_value(
            ListParams::parse(Some("page=4&pageSize=3&query=status%3DEven"))
                .unwrap()
                .page(items(20), "/x"),
        )
        .unwrap();
        assert_eq!(last["results"].as_array().unwrap().len(), 1);
        assert!(last["_links"].get("next").is_none());
    }

    #[test]
    fn bad_parameters_are_400s() {
        for bad in [
            "page=0",
            "page=x",
            "pageSize=0",
            "pageSize=5001",
            "query=status%3D%3Dx",
            "orderBy=-",
        ] {
            let e = ListParams::parse(Some(bad)).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
    }
}
