//! Idempotency keys, stored with the work they guard in one database transaction.
//!
//! The first accepted outcome of a key is saved as the HTTP status and body the caller got, and
//! replayed for later requests with the same key and the same request fingerprint. The body is
//! rendered by the API layer (the store does not know HTTP) through the `render` callback, run
//! inside the transaction, so the work and its saved answer commit together or not at all.

use bankfeeds_domain::OrgId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub org_id: OrgId,
    pub key: String,
    /// A digest of what the request asked for (method, path, body): a reuse of the key for a
    /// different request is refused.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// Either the work was done now, or an earlier request with the same key did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Done(T),
    Replayed(StoredResponse),
}

/// The key and how to render the answer to save with it.
pub struct Idem<'a, T> {
    pub key: &'a IdempotencyKey,
    pub render: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
}

impl<T> Clone for Idem<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Idem<'_, T> {}
