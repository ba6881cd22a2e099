/// An id column: stored as hyphenated UUID text, decoded by sqlx itself (a malformed one is a
/// decode error, so a corrupt row never becomes a domain id).
pub(crate) type DbUuid = sqlx::types::uuid::fmt::Hyphenated;
