//! The outbox: events recorded with each change.

use crate::{Event, EventKind, StoreResult};
use async_trait::async_trait;
use bankfeeds_domain::continuity::BalanceReport;
use bankfeeds_domain::customer::CustomerId;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, Connection, ConnectionId, Job, JobId, JobStatus, OrgId,
};
use serde_json::json;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events of one organisation after `after_seq`, oldest first.
    async fn list_events(&self, org: OrgId, after_seq: i64, limit: u32) -> StoreResult<Vec<Event>>;
}

/// An event as the change that causes it records it (the store adds its sequence number and
/// time). Both backends build their events here, so they say the same thing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub org_id: OrgId,
    pub connection_id: Option<ConnectionId>,
    pub kind: EventKind,
    pub resource_id: String,
    pub payload: serde_json::Value,
}

impl NewEvent {
    /// The event of a change a console operator made: its `data` names them
    /// (`operator_id`); `None` leaves it as the API records it.
    pub fn by_operator(mut self, by: Option<OperatorId>) -> Self {
        if let (Some(id), Some(data)) = (by, self.payload.as_object_mut()) {
            data.insert("operator_id".to_owned(), json!(id));
        }
        self
    }

    /// The event with one more field in its `data`.
    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Self {
        if let Some(data) = self.payload.as_object_mut() {
            data.insert(key.to_owned(), json!(value));
        }
        self
    }

    /// An account was created, updated, deleted or had its feed state changed.
    pub fn account(kind: EventKind, a: &BankFeedAccount) -> Self {
        NewEvent {
            org_id: a.org_id,
            connection_id: Some(a.connection_id),
            kind,
            resource_id: a.id.to_string(),
            payload: json!({
                "bank_feed_account_id": a.id,
                "connection_id": a.connection_id,
                "internal_bank_account_id": a.internal_bank_account_id,
                "feed_status": a.feed_status,
                "transaction_ready": a.transaction_ready,
            }),
        }
    }

    /// A job finished (`job` as finished, with its answer's status `http_status`): a Rutter
    /// job records `job.succeeded`/`job.failed`, a Codat push
    /// `codat.push_operation.succeeded`/`failed`.
    pub fn job_finished(job: &Job, http_status: u16) -> Self {
        let codat = job.kind == JobKind::CodatPush;
        let succeeded = job.status == JobStatus::Success;
        NewEvent {
            org_id: job.org_id,
            connection_id: Some(job.connection_id),
            kind: EventKind::job_outcome(codat, succeeded),
            resource_id: job.id.to_string(),
            payload: json!({ "job_id": job.id, "status": job.status, "http_status": http_status }),
        }
    }

    /// A connection was created or deleted.
    pub fn connection(kind: EventKind, c: &Connection) -> Self {
        NewEvent {
            org_id: c.org_id,
            connection_id: Some(c.id),
            kind,
            resource_id: c.id.to_string(),
            payload: json!({
                "connection_id": c.id,
                "platform": c.platform,
                "name": c.name,
            }),
        }
    }

    /// The organisation's client secret was rotated, by a console operator (`by`) or, with
    /// `None`, the command line.
    pub fn client_secret_rotated(org: OrgId, by: Option<OperatorId>) -> Self {
        NewEvent {
            org_id: org,
            connection_id: None,
            kind: EventKind::ClientSecretRotated,
            resource_id: org.to_string(),
            payload: json!({ "org_id": org, "operator_id": by }),
        }
    }

    /// A webhook endpoint changed (`domain::webhook::WebhookChange`), by a console operator
    /// (`by`) or, with `None`, the API. `since` is a recovery's start.
    pub fn webhook_changed(
        e: &bankfeeds_domain::webhook::WebhookEndpoint,
        change: bankfeeds_domain::webhook::WebhookChange,
        since: Option<bankfeeds_domain::Timestamp>,
    ) -> Self {
        let mut payload = json!({
            "webhook_id": e.id,
            "change": change.as_str(),
            "url": e.url,
            "status": e.status,
        });
        if let (Some(since), Some(data)) = (since, payload.as_object_mut()) {
            data.insert("since".to_owned(), json!(since));
        }
        NewEvent {
            org_id: e.org_id,
            connection_id: None,
            kind: EventKind::WebhookChanged,
            resource_id: e.id.to_string(),
            payload,
        }
    }

    /// A bank feeds configuration was stored (`c` as stored), by a console operator (`by`) or,
    /// with `None`, the API or the command line.
    pub fn fi_config_updated(c: &FiConfig, by: Option<OperatorId>) -> Self {
        NewEvent {
            org_id: c.org_id,
            connection_id: None,
            kind: EventKind::FiConfigUpdated,
            resource_id: c.platform.as_str().to_owned(),
            payload: json!({
                "platform": c.platform,
                "display_name": c.display_name,
                "login_url": c.login_url,
                "country_code": c.country_code,
                "operator_id": by,
            }),
        }
    }

    /// The customer completed the link flow: `accounts` became feeds of the platform company.
    pub fn connection_linked(
        org: OrgId,
        connection: ConnectionId,
        company: CompanyId,
        accounts: &[BankFeedAccountId],
    ) -> Self {
        NewEvent {
            org_id: org,
            connection_id: Some(connection),
            kind: EventKind::ConnectionLinked,
            resource_id: connection.to_string(),
            payload: json!({
                "connection_id": connection,
                "platform_company_id": company,
                "bank_feed_account_ids": accounts,
            }),
        }
    }

    /// The customer's link of the connection ended (its active feeds were taken off).
    pub fn connection_unlinked(org: OrgId, connection: ConnectionId, customer: CustomerId) -> Self {
        NewEvent {
            org_id: org,
            connection_id: Some(connection),
            kind: EventKind::ConnectionUnlinked,
            resource_id: connection.to_string(),
            payload: json!({ "connection_id": connection, "customer_id": customer }),
        }
    }

    /// A batch of `job` stored `created` new transactions of the account and found
    /// `duplicates` already stored.
    pub fn transactions_created(
        account: &BankFeedAccount,
        job: JobId,
        created: usize,
        duplicates: usize,
    ) -> Self {
        NewEvent {
            org_id: account.org_id,
            connection_id: Some(account.connection_id),
            kind: EventKind::TransactionsCreated,
            resource_id: account.id.to_string(),
            payload: json!({
                "bank_feed_account_id": account.id,
                "job_id": job,
                "created": created,
                "duplicates": duplicates,
            }),
        }
    }

    /// A batch's reported balance broke continuity (or a break was acknowledged, `kind`
    /// `BalanceBreakAcknowledged`): the figures, where and which batch.
    pub fn balance(kind: EventKind, account: &BankFeedAccount, r: &BalanceReport) -> Self {
        let mu = account.currency.minor_units();
        let n = |d| bankfeeds_domain::money::json_money(d, mu);
        NewEvent {
            org_id: account.org_id,
            connection_id: Some(account.connection_id),
            kind,
            resource_id: account.id.to_string(),
            payload: json!({
                "bank_feed_account_id": account.id,
                "balance_report_id": r.id,
                "seq": r.seq,
                "job_id": r.job_id,
                "currency": account.currency.code(),
                "expected": r.check.expected.map(n),
                "reported": n(r.check.reported),
                "difference": n(r.check.difference),
                "posted_through": r.posted_through,
                "acknowledged_reason": r.acknowledgement.as_ref().map(|a| &a.reason),
            }),
        }
    }

    /// A platform company ingested the feed's pending transactions as `statements` statements.
    pub fn account_synced(
        feed: &BankFeedAccount,
        company: CompanyId,
        transactions_ingested: usize,
        statements: usize,
    ) -> Self {
        NewEvent {
            org_id: feed.org_id,
            connection_id: Some(feed.connection_id),
            kind: EventKind::AccountSynced,
            resource_id: feed.id.to_string(),
            payload: json!({
                "bank_feed_account_id": feed.id,
                "platform_company_id": company,
                "transactions_ingested": transactions_ingested,
                "statements": statements,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankfeeds_domain::job::{JobRequest, RawJson};

    #[test]
    fn a_finished_job_says_its_outcome_and_its_answers_status() {
        let now = bankfeeds_domain::Timestamp::default();
        let request = JobRequest {
            method: "POST".into(),
            url: "/jobs".into(),
            body: RawJson::trusted("{}"),
            idempotency_key: None,
        };
        let job = Job::new(
            JobKind::TransactionBatch,
            OrgId::new(),
            ConnectionId::new(),
            None,
            request,
            now,
        )
        .finished(409, RawJson::trusted("{}"), now);
        let e = NewEvent::job_finished(&job, 409);
        assert_eq!(
            (e.kind, e.resource_id.clone()),
            (EventKind::JobFailed, job.id.to_string())
        );
        assert_eq!(
            e.payload,
            json!({ "job_id": job.id, "status": "failure", "http_status": 409 })
        );
    }
}
