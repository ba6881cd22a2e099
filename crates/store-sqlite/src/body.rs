//! A job's request and response bodies as stored: LZ4-compressed when large.
//!
//! A 1000-transaction batch carries ~160 KB of request and ~480 KB of answer, more pages than
//! the transactions themselves; every page goes through the WAL and again through the
//! checkpoint, on SQLite's one writer. Compressed, they take a fraction of that (the bench
//! measures it). PostgreSQL compresses such values itself (TOAST, LZ4 where built with it).
//!
//! The column's own type says which form a value has: TEXT is the JSON as is (small bodies, and
//! every body written before this), BLOB is LZ4 with its length prepended.

use std::borrow::Cow;

/// Bodies smaller than a page stay plain text: compressing them saves no page.
const COMPRESS_FROM: usize = 4096;

/// A body as bound into an INSERT.
pub(crate) enum Stored<'a> {
    Text(Cow<'a, str>),
    Packed(Vec<u8>),
}

impl Stored<'_> {
    /// The same value, owning its text.
    pub(crate) fn into_owned(self) -> Stored<'static> {
        match self {
            Stored::Text(t) => Stored::Text(Cow::Owned(t.into_owned())),
            Stored::Packed(b) => Stored::Packed(b),
        }
    }
}

pub(crate) fn pack(json: &str) -> Stored<'_> {
    if json.len() < COMPRESS_FROM {
        Stored::Text(Cow::Borrowed(json))
    } else {
        Stored::Packed(lz4_flex::compress_prepend_size(json.as_bytes()))
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for Stored<'q> {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self {
            Stored::Text(t) => <Cow<'q, str> as sqlx::Encode<sqlx::Sqlite>>::encode_by_ref(t, buf),
            Stored::Packed(b) => <Vec<u8> as sqlx::Encode<sqlx::Sqlite>>::encode_by_ref(b, buf),
        }
    }
}

impl sqlx::Type<sqlx::Sqlite> for Stored<'_> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <Vec<u8> as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <Vec<u8> as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
    }
}

/// The JSON text of a stored body (its bytes, as `CAST(body AS BLOB)`, and whether they are
/// packed, as `typeof(body) = 'blob'`), or why it cannot be read.
pub(crate) fn unpack(
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
        assert!(matches!(pack("{\"a\":1}"), Stored::Text(t) if t == "{\"a\":1}"));
        let large = format!("[{}]", vec!["{\"amount\":\"-12.34\"}"; 1000].join(","));
        let Stored::Packed(bytes) = pack(&large) else {
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
