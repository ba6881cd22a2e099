//! A job's request and response bodies as stored: LZ4-compressed when large.
//!
//! A 1000-transaction batch carries ~160 KB of request and ~480 KB of answer, more pages than
//! the transactions themselves; every page goes through the WAL and again through the
//! checkpoint, on SQLite's one writer. Compressed, they take a fraction of that (the bench
//! measures it). PostgreSQL compresses such values itself (TOAST, LZ4 where built with it).
//!
//! The column's own type says which form a value has: TEXT is the JSON as is (small bodies, and
//! every body written before this), BLOB is LZ4 with its length prepended.

use crate::{Arg, Backend, Dialect};

/// Bodies smaller than a page stay plain text: compressing them saves no page.
const COMPRESS_FROM: usize = 4096;

/// A body as bound into an INSERT: on SQLite, packed when large; PostgreSQL compresses large
/// values itself, so it gets the text.
pub fn stored<B: Backend>(json: &str) -> Arg {
    match B::DIALECT {
        Dialect::Sqlite => pack(json),
        Dialect::Postgres => Arg::from(json),
    }
}

/// SQLite's form of a body: plain text when small, LZ4 with its length prepended when large.
pub fn pack(json: &str) -> Arg {
    if json.len() < COMPRESS_FROM {
        Arg::from(json)
    } else {
        Arg::from(lz4_flex::compress_prepend_size(json.as_bytes()))
    }
}

/// The JSON text of a stored body (its bytes, as `CAST(body AS BLOB)`, and whether they are
/// packed, as `typeof(body) = 'blob'`), or why it cannot be read.
pub fn unpack(
    bytes: Option<Vec<u8>>,
    packed: Option<bool>,
) -> Result<Option<String>, &'static str> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let bytes = if packed.unwrap_or(false) {
        lz4_flex::decompress_size_prepended(&bytes).map_err(|_| "body does not decompress")?
    } else {
        bytes
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "body is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bodies_stay_text_and_large_ones_round_trip_packed() {
        assert!(matches!(pack("{\"a\":1}"), Arg::Text(Some(t)) if t == "{\"a\":1}"));
        let large = format!("[{}]", vec!["{\"amount\":\"-12.34\"}"; 1000].join(","));
        let Arg::Bytes(Some(bytes)) = pack(&large) else {
            panic!("a large body is packed");
        };
        assert!(
            bytes.len() < large.len() / 4,
            "{} of {}",
            bytes.len(),
            large.len()
        );
        let truncated = bytes[..bytes.len() / 2].to_vec();
        assert_eq!(unpack(Some(bytes), Some(true)), Ok(Some(large)));
        assert!(unpack(Some(truncated), Some(true)).is_err());
        assert_eq!(
            unpack(Some(b"{}".to_vec()), Some(false)),
            Ok(Some("{}".to_string()))
        );
        assert_eq!(unpack(None, None), Ok(None));
    }
}
