//! What the Rutter door calls each id its requests name, as `INVALID_ID` says it
//! (`"x" is not a webhook id`).

use bankfeeds_domain::continuity::BalanceReportId;
use bankfeeds_domain::webhook::WebhookId;
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, JobId, TransactionId};

use crate::http::path::NamedId;

impl NamedId for ConnectionId {
    const WHAT: &'static str = "connection";
}

impl NamedId for BankFeedAccountId {
    const WHAT: &'static str = "bank feed account";
}

impl NamedId for TransactionId {
    const WHAT: &'static str = "transaction";
}

impl NamedId for JobId {
    const WHAT: &'static str = "job";
}

impl NamedId for WebhookId {
    const WHAT: &'static str = "webhook";
}

/// A balance break is a balance report that did not tie out; the path calls it a break.
impl NamedId for BalanceReportId {
    const WHAT: &'static str = "break";
}
