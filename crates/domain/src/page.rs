//! Keyset pagination shared by every list: an opaque cursor naming the last row returned.

use base64::Engine;

/// Where a page starts: after the row with this sort key. Opaque to API callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn decode(s: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .ok()?;
        String::from_utf8(bytes).ok().map(Cursor)
    }
}

/// A page of a list sorted by key `K`: the rows strictly after `after`, at most `limit` of them.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub after: Option<K>,
    pub limit: u32,
}

impl<K> PageRequest<K> {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// True when rows follow the last item (the API then hands out a cursor).
    pub has_more: bool,
}

impl<T> Page<T> {
    /// The page of a list read with one row more than `limit`: the extra row only tells that
    /// another page follows, and is dropped.
    pub fn from_overfetch(mut items: Vec<T>, limit: u32) -> Self {
        let limit = limit as usize;
        let has_more = items.len() > limit;
        items.truncate(limit);
        Page { items, has_more }
    }

    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            has_more: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor("0190f3c2-aaaa".into());
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("%%%"), None);
    }

    #[test]
    fn an_overfetched_row_means_another_page() {
        let more = Page::from_overfetch(vec![1, 2, 3], 2);
        assert_eq!((more.items, more.has_more), (vec![1, 2], true));
        let last = Page::from_overfetch(vec![1, 2], 2);
        assert_eq!((last.items, last.has_more), (vec![1, 2], false));
        let none = Page::<u8>::from_overfetch(vec![], 2);
        assert_eq!((none.items.len(), none.has_more), (0, false));
    }
}
