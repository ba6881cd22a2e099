//! Cursor pagination for every list: `cursor`, `limit` (default 50, at most what the list allows), `next_cursor`.

use bankfeeds_domain::{Cursor, Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Rows per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

impl ListParams {
    /// Checks the limit and decodes the cursor into the list's sort key.
    pub fn page_request<K>(
        &self,
        parse_key: impl Fn(&str) -> Option<K>,
    ) -> Result<PageRequest<K>, ApiError> {
        Ok(PageRequest {
            limit: check_limit(self.limit, PageRequest::<K>::MAX_LIMIT)?,
            after: decode_cursor(self.cursor.as_deref(), parse_key)?,
        })
    }
}

/// `limit`: 1 to `max`, default 50.
pub fn check_limit(limit: Option<u32>, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(PageRequest::<()>::DEFAULT_LIMIT);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad_request(
            "INVALID_LIMIT",
            format!("limit must be between 1 and {max}"),
        ))
    }
}

/// Decodes a `cursor` this list handed out into its sort key; absent or empty means the start.
pub fn decode_cursor<K>(
    raw: Option<&str>,
    parse_key: impl Fn(&str) -> Option<K>,
) -> Result<Option<K>, ApiError> {
    match raw.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(raw) => Cursor::decode(raw)
            .and_then(|c| parse_key(&c.0))
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request("INVALID_CURSOR", "cursor is not one this list handed out")
            }),
    }
}

/// The cursor naming the page's last row, when more rows follow.
pub fn next_cursor<T>(page: &Page<T>, key: impl Fn(&T) -> String) -> Option<String> {
    if page.has_more {
        page.items.last().map(|last| Cursor(key(last)).encode())
    } else {
        None
    }
}

pub struct PageOut<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> PageOut<T> {
    /// The page's rows and, when more follow, the cursor naming the last one.
    pub fn from_page(page: Page<T>, key: impl Fn(&T) -> String) -> Self {
        let next_cursor = next_cursor(&page, key);
        PageOut {
            items: page.items,
            next_cursor,
        }
    }
}
