//! Reading stored values back into domain types, for both backends: a value this program did not
//! write (or cannot read any more) is a corrupt row, never a domain value.

use crate::{StoreError, StoreResult};

/// The error for a stored value that does not decode; `what` names the table and column.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}").into())
}

/// Parses a stored text column (an id, a platform, an amount) or says which column is corrupt.
pub fn parse<T: std::str::FromStr>(s: &str, what: &str) -> StoreResult<T> {
    s.parse().map_err(|_| corrupt(what))
}

/// A stored name read back through the domain's own `parse` (`None` for an unknown name).
pub fn known<T>(parsed: Option<T>, what: &str) -> StoreResult<T> {
    parsed.ok_or_else(|| corrupt(what))
}

/// A stored JSON text column.
pub fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|_| corrupt(what))
}

/// A stored count (an integer column) as the domain's `u32`.
pub fn count(n: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| corrupt(what))
}

/// The text columns of `bank_feed_accounts`.
pub mod account {
    use bankfeeds_domain::account::{AccountDetails, BankAccountType, FeedStatus};
    use bankfeeds_domain::Currency;

    use super::{json, known};
    use crate::StoreResult;

    pub fn account_type(s: &str) -> StoreResult<BankAccountType> {
        known(
            BankAccountType::parse(s),
            "bank_feed_accounts.bank_account_type",
        )
    }

    pub fn currency(code: &str) -> StoreResult<Currency> {
        known(
            Currency::from_code(code),
            "bank_feed_accounts.currency_code",
        )
    }

    pub fn feed_status(s: &str) -> StoreResult<FeedStatus> {
        known(FeedStatus::parse(s), "bank_feed_accounts.feed_status")
    }

    pub fn details(s: &str) -> StoreResult<AccountDetails> {
        json(s, "bank_feed_accounts.details")
    }

    pub fn platform_data(s: Option<String>) -> StoreResult<Option<serde_json::Value>> {
        s.map(|p| json(&p, "bank_feed_accounts.platform_data"))
            .transpose()
    }
}

/// The text columns of `transactions`.
pub mod transaction {
    use bankfeeds_domain::transaction::{DebitCreditMemo, TransactionType};

    use super::known;
    use crate::StoreResult;

    pub fn transaction_type(s: Option<String>) -> StoreResult<Option<TransactionType>> {
        s.map(|t| known(TransactionType::parse(&t), "transactions.transaction_type"))
            .transpose()
    }

    pub fn debit_credit_memo(s: Option<String>) -> StoreResult<Option<DebitCreditMemo>> {
        s.map(|m| known(DebitCreditMemo::parse(&m), "transactions.debit_credit_memo"))
            .transpose()
    }
}

/// The columns of `jobs` (and its body tables) both backends read alike.
pub mod job {
    use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
    use bankfeeds_domain::JobStatus;

    use super::{corrupt, known};
    use crate::StoreResult;

    pub fn kind(s: &str) -> StoreResult<JobKind> {
        known(JobKind::parse(s), "jobs.kind")
    }

    pub fn status(s: &str) -> StoreResult<JobStatus> {
        known(JobStatus::parse(s), "jobs.status")
    }

    /// A body as stored, or JSON `null` once retention deleted the job's bodies.
    pub fn body_unless_deleted(body: Option<String>, deleted: bool) -> Option<String> {
        if deleted {
            Some("null".to_owned())
        } else {
            body
        }
    }

    /// The URL of a stored request head.
    pub fn url(head: &str) -> StoreResult<String> {
        known(JobRequest::url_from_stored(head), "jobs.request")
    }

    /// A finished job's HTTP status as stored.
    pub fn response_status(status: Option<i64>) -> StoreResult<Option<u16>> {
        status
            .map(|s| u16::try_from(s).map_err(|_| corrupt("jobs.response_status")))
            .transpose()
    }

    pub fn request(head: &str, body: Option<String>) -> StoreResult<JobRequest> {
        known(JobRequest::from_stored(head, body), "jobs.request")
    }

    /// The answer of a finished job: its status and body (written by this program as JSON, so
    /// taken as is, not parsed again), or none while either is missing.
    pub fn response(
        status: Option<i64>,
        body: Option<String>,
    ) -> StoreResult<Option<(u16, RawJson)>> {
        match (status, body) {
            (Some(status), Some(body)) => Ok(Some((
                u16::try_from(status).map_err(|_| corrupt("jobs.response_status"))?,
                RawJson::trusted(body),
            ))),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_does_not_decode_names_its_column() {
        let err = parse::<u8>("x", "t.c").unwrap_err();
        assert_eq!(err.to_string(), "database error: corrupt row: t.c");
        assert!(known(None::<u8>, "t.k").is_err());
        assert_eq!(known(Some(1), "t.k").unwrap(), 1);
        assert!(json::<Vec<u8>>("{", "t.j").is_err());
        assert!(count(-1, "t.n").is_err());
        assert_eq!(count(3, "t.n").unwrap(), 3);
    }
}
