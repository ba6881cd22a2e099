//! Cursor pagination for every list: `cursor`, `limit` (default 50, at most 500), `next_cursor`.

use bankfeeds_domain::{Cursor, Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Rows per page: 1 to 500, default 50.
    pub limit: Option<u32>,
}

impl ListParams {
    /// Checks the limit and decodes the cursor into the list's sort key.
    pub fn page_request<K>(
        &self,
        parse_key: impl Fn(&str) -> Option<K>,
    ) -> Result<PageRequest<K>, ApiError> {
        let limit = self.limit.unwrap_or(PageRequest::<K>::DEFAULT_LIMIT);
        if !(1..=PageRequest::<K>::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "INVALID_LIMIT",
                format!(
                    "limit must be between 1 and {}",
                    PageRequest::<K>::MAX_LIMIT
                ),
            ));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(
                Cursor::decode(raw)
                    .and_then(|c| parse_key(&c.0))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "INVALID_CURSOR",
                            "cursor is not one this API handed out",
                        )
                    })?,
            ),
        };
        Ok(PageRequest { after, limit })
    }
}

pub struct PageOut<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> PageOut<T> {
    /// The page's rows and, when more follow, the cursor naming the last one.
    pub fn from_page(page: Page<T>, key: impl Fn(&T) -> String) -> Self {
        let next_cursor = if page.has_more {
            page.items.last().map(|last| Cursor(key(last)).encode())
        } else {
            None
        };
        PageOut {
            items: page.items,
            next_cursor,
        }
    }
}
