//! Codat's paged list envelope.

use serde::Serialize;
use utoipa::ToSchema;

/// One page of a list: `results` and where the neighbouring pages are.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub results: Vec<T>,
    /// From 1.
    pub page_number: u32,
    pub page_size: u32,
    /// How many match the query, over every page.
    pub total_results: usize,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// `_links`: `self` and `current` always (Codat's SDK refuses a page without them), `next`
/// and `previous` where there is such a page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: Link,
    pub current: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
}
