//! `TRNUID` reuse: OFX status 2019, "duplicate request".
//!
//! OFX makes every transaction's `TRNUID` a client-assigned, globally unique id, and the
//! server's answer to a request whose `TRNUID` it has already processed is status 2019 (libofx:
//! "a request with this TRNUID has already been received and processed"). The spec has no
//! replay rule for the read-only requests this server answers (profile, account list,
//! statements), so the hub tells a retry from a reuse by what is asked:
//!
//! - the same `TRNUID` asking for the same thing (a client retrying after a lost answer) is
//!   answered again, afresh: a statement is a read, and a retry then also gets what was posted
//!   since, which the client de-duplicates by `FITID`;
//! - the same `TRNUID` asking for something else is refused with 2019 and no answer aggregate.
//!
//! Kept per user (the credentials' `USERID`) for the retention horizon
//! (`retention_ofx_trnuid_days`), so the store stays bounded; past it a `TRNUID` is new again.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// Longest `TRNUID` OFX allows (`A-36`); a longer one is kept as its digest, so nothing a
/// client sends grows a row without bound.
pub const MAX_TRNUID_CHARS: usize = 36;

/// One `TRNUID` as presented: the id and a digest of what its transaction asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrnuidUse {
    /// The `TRNUID`, or the hex SHA-256 of it when longer than [`MAX_TRNUID_CHARS`].
    pub trnuid: String,
    /// Hex SHA-256 of the request's canonical text (see `formats`' `RequestBody::canonical`).
    pub fingerprint: String,
}

impl TrnuidUse {
    pub fn new(trnuid: &str, canonical_request: &str) -> Self {
        let trnuid = if trnuid.chars().count() > MAX_TRNUID_CHARS {
            hex::encode(Sha256::digest(trnuid.as_bytes()))
        } else {
            trnuid.to_owned()
        };
        TrnuidUse {
            trnuid,
            fingerprint: hex::encode(Sha256::digest(canonical_request.as_bytes())),
        }
    }
}

/// What a presented `TRNUID` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrnuidVerdict {
    /// Never seen for this user (within retention): answered, and remembered.
    New,
    /// Seen before asking for the same thing: answered again.
    Retry,
    /// Seen before asking for something else: status 2019.
    Reused,
}

/// The verdict on each of `presented`, in order, given what this user sent before (`seen`:
/// `TRNUID` → fingerprint). Within one file, a `TRNUID` repeated after its first use is judged
/// against that first use.
pub fn judge_trnuids(
    seen: &HashMap<String, String>,
    presented: &[TrnuidUse],
) -> Vec<TrnuidVerdict> {
    let mut earlier: HashMap<&str, &str> = HashMap::new();
    presented
        .iter()
        .map(|u| {
            let before = seen
                .get(&u.trnuid)
                .map(String::as_str)
                .or_else(|| earlier.get(u.trnuid.as_str()).copied());
            match before {
                None => {
                    earlier.insert(&u.trnuid, &u.fingerprint);
                    TrnuidVerdict::New
                }
                Some(f) if f == u.fingerprint => TrnuidVerdict::Retry,
                Some(_) => TrnuidVerdict::Reused,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrnuidVerdict::*;

    #[test]
    fn new_then_retry_then_reuse() {
        let a = TrnuidUse::new("T1", "STMTRQ|1001|20240101");
        let mut seen = HashMap::new();
        assert_eq!(judge_trnuids(&seen, std::slice::from_ref(&a)), [New]);
        seen.insert(a.trnuid.clone(), a.fingerprint.clone());
        assert_eq!(judge_trnuids(&seen, std::slice::from_ref(&a)), [Retry]);
        let other = TrnuidUse::new("T1", "STMTRQ|1001|20240201");
        assert_eq!(judge_trnuids(&seen, &[other]), [Reused]);
        let fresh = TrnuidUse::new("T2", "STMTRQ|1001|20240201");
        assert_eq!(judge_trnuids(&seen, &[fresh]), [New]);
    }

    #[test]
    fn within_one_file_the_first_use_counts() {
        let seen = HashMap::new();
        let a = TrnuidUse::new("X", "PROFRQ");
        let same = TrnuidUse::new("X", "PROFRQ");
        let other = TrnuidUse::new("X", "ACCTINFORQ");
        assert_eq!(
            judge_trnuids(&seen, &[a, same, other]),
            [New, Retry, Reused]
        );
    }

    #[test]
    fn long_trnuids_are_kept_by_digest() {
        let long = "x".repeat(500);
        let u = TrnuidUse::new(&long, "PROFRQ");
        assert_eq!(u.trnuid.len(), 64);
        assert_eq!(u, TrnuidUse::new(&long, "PROFRQ"));
        assert_ne!(u.trnuid, TrnuidUse::new(&"y".repeat(500), "PROFRQ").trnuid);
        assert_eq!(TrnuidUse::new("short", "PROFRQ").trnuid, "short");
    }
}
