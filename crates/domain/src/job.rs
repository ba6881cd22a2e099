//! Jobs: asynchronous writes (transaction batches) and their outcomes.
//!
//! A job is accepted (`prequeued`), picked up (`pending`), and finishes `success` or `failure`
//! with the HTTP status and body the synchronous call would have answered. Jobs for one bank
//! feed account run one at a time, in the order they were accepted.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{BankFeedAccountId, ConnectionId, JobId, OrgId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Prequeued,
    Pending,
    Success,
    Failure,
}

str_enum!(JobStatus {
    Prequeued => "prequeued",
    Pending => "pending",
    Success => "success",
    Failure => "failure",
});

impl JobStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failure)
    }
}

/// What a job does. The door that accepts a job names its kind; the runner registered for
/// that kind runs it, so the queue itself knows no door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A Rutter-shaped `POST /bank_feeds/transactions` batch.
    TransactionBatch,
    /// A Codat-door push of bank transactions (with an optional timeout).
    CodatPush,
    /// A Rutter-shaped bank feed account create, PATCH or DELETE sent with
    /// `response_mode: async` (seed 002): answered with the job, run by the queue.
    AccountWrite,
}

str_enum!(JobKind {
    TransactionBatch => "transaction_batch",
    CodatPush => "codat_push",
    AccountWrite => "account_write",
});

impl JobKind {
    pub const ALL: [JobKind; 3] = [
        JobKind::TransactionBatch,
        JobKind::CodatPush,
        JobKind::AccountWrite,
    ];
}

/// A job finished as failed must answer with an error status (4xx or 5xx); anything else is
/// a programming mistake in the caller, refused before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a failed job answers with an error status, not {0}")]
pub struct NotAFailureStatus(pub u16);

/// Checks the status a job is failed with.
pub fn failure_status(status: u16) -> Result<u16, NotAFailureStatus> {
    if status >= 400 {
        Ok(status)
    } else {
        Err(NotAFailureStatus(status))
    }
}

/// A JSON document kept as its text: parsed (or rendered) once, then stored and sent as is,
/// never rebuilt as a `serde_json::Value` on the hot path. Cheap to clone.
///
/// Equality is of the text: two documents that differ only in whitespace or key order are
/// different `RawJson`s (compare [`RawJson::to_value`] for meaning).
#[derive(Clone, PartialEq, Eq)]
pub struct RawJson(Arc<str>);

impl RawJson {
    /// Checks that `text` is exactly one JSON value (surrounding whitespace allowed).
    pub fn parse(text: impl Into<Arc<str>>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Self(text))
    }

    /// Text this program rendered as JSON itself (or stored after checking it), taken as is.
    pub fn trusted(text: impl Into<Arc<str>>) -> Self {
        Self(text.into())
    }

    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(value.to_string().into())
    }

    /// The document as a `Value` (numbers keep their digits).
    ///
    /// # Panics
    /// If the text is not JSON, which `parse` and this program's own rendering rule out.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).expect("RawJson holds JSON")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The request that created a job, as `GET /jobs/:id` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRequest {
    pub method: String,
    /// Path and query, with the access token removed.
    pub url: String,
    /// The body as the caller sent it.
    pub body: RawJson,
    pub idempotency_key: Option<String>,
}

/// How a job's request is stored: the small fields as one JSON object, the body as its own text.
#[derive(Serialize, Deserialize)]
struct StoredRequestHead {
    method: String,
    url: String,
    /// Only in rows written before the body got a column of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<serde_json::Value>,
    idempotency_key: Option<String>,
}

impl JobRequest {
    /// The stored form of everything but the body (which is stored as `self.body.as_str()`).
    pub fn stored_head(&self) -> String {
        serde_json::to_string(&StoredRequestHead {
            method: self.method.clone(),
            url: self.url.clone(),
            body: None,
            idempotency_key: self.idempotency_key.clone(),
        })
        .expect("requests serialise")
    }

    /// Reads a stored request back: the head and the body's text, or a head that still holds
    /// the body (rows written before the body had its own column). `None` when unreadable.
    pub fn from_stored(head: &str, body: Option<String>) -> Option<Self> {
        let head: StoredRequestHead = serde_json::from_str(head).ok()?;
        let body = match (body, head.body) {
            (Some(text), _) => RawJson::trusted(text),
            (None, Some(value)) => RawJson::from_value(&value),
            (None, None) => return None,
        };
        Some(JobRequest {
            method: head.method,
            url: head.url,
            body,
            idempotency_key: head.idempotency_key,
        })
    }
}

/// A job without its bodies: what a list needs to filter, sort and page before it loads any
/// request or answer (a push's request body can be megabytes, so a list of thousands of jobs
/// must not read them all).
#[derive(Debug, Clone, PartialEq)]
pub struct JobHead {
    pub id: JobId,
    pub kind: JobKind,
    pub connection_id: ConnectionId,
    pub status: JobStatus,
    /// Path and query the job was requested with (no access token).
    pub url: String,
    /// The HTTP status of the outcome, once finished.
    pub response_status: Option<u16>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl JobRequest {
    /// The URL in a stored request head (see [`JobRequest::from_stored`]); `None` when unreadable.
    pub fn url_from_stored(head: &str) -> Option<String> {
        serde_json::from_str::<StoredRequestHead>(head)
            .ok()
            .map(|h| h.url)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub bank_feed_account_id: Option<BankFeedAccountId>,
    pub status: JobStatus,
    pub request: JobRequest,
    /// HTTP status and JSON body of the outcome, once finished.
    pub response: Option<(u16, RawJson)>,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// When retention deleted the request and response bodies of this finished job: its
    /// `request.body` and its answer's body then read as JSON `null`, its status and HTTP
    /// status stay.
    pub bodies_deleted_at: Option<Timestamp>,
}

impl Job {
    /// The job without its bodies.
    pub fn head(&self) -> JobHead {
        JobHead {
            id: self.id,
            kind: self.kind,
            connection_id: self.connection_id,
            status: self.status,
            url: self.request.url.clone(),
            response_status: self.response.as_ref().map(|(s, _)| *s),
            created_at: self.created_at,
            finished_at: self.finished_at,
        }
    }

    pub fn new(
        kind: JobKind,
        org_id: OrgId,
        connection_id: ConnectionId,
        bank_feed_account_id: Option<BankFeedAccountId>,
        request: JobRequest,
        now: Timestamp,
    ) -> Self {
        Job {
            id: JobId::new(),
            kind,
            org_id,
            connection_id,
            bank_feed_account_id,
            status: JobStatus::Prequeued,
            request,
            response: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
            bodies_deleted_at: None,
        }
    }

    /// The job finished with the HTTP answer its synchronous call would have had: a 2xx answer
    /// is a success, any other a failure.
    pub fn finished(&self, status: u16, body: RawJson, now: Timestamp) -> Job {
        let outcome = if (200..300).contains(&status) {
            JobStatus::Success
        } else {
            JobStatus::Failure
        };
        Job {
            status: outcome,
            response: Some((status, body)),
            updated_at: now,
            finished_at: Some(now),
            ..self.clone()
        }
    }
}

/// How far the platform has taken the transactions a batch job stored (only those it stored:
/// a re-sent duplicate belongs to the job that first stored it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobIngestion {
    pub stored: u64,
    pub ingested: u64,
    /// When the platform took the last of them it has taken.
    pub last_ingested_at: Option<Timestamp>,
}

impl JobIngestion {
    /// When the platform had taken every transaction the job stored: the moment seed 003's
    /// "synced into the accounting system" happened. None while any is waiting, or when the
    /// job stored none.
    pub fn platform_took_all_at(&self) -> Option<Timestamp> {
        (self.stored > 0 && self.ingested == self.stored)
            .then_some(self.last_ingested_at)
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> JobRequest {
        JobRequest {
            method: "POST".into(),
            url: "/versioned/accounting/bank_feeds/transactions".into(),
            body: RawJson::parse(body).unwrap(),
            idempotency_key: Some("k1".into()),
        }
    }

    #[test]
    fn a_job_succeeds_with_a_2xx_answer_only() {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let job = Job::new(
            JobKind::TransactionBatch,
            OrgId::new(),
            ConnectionId::new(),
            None,
            request("{}"),
            now,
        );
        let later = now + chrono::Duration::seconds(1);
        for (status, outcome) in [
            (200, JobStatus::Success),
            (299, JobStatus::Success),
            (300, JobStatus::Failure),
            (409, JobStatus::Failure),
            (500, JobStatus::Failure),
        ] {
            let done = job.finished(status, RawJson::trusted("{}"), later);
            assert_eq!(done.status, outcome);
            assert_eq!(done.response.map(|(s, _)| s), Some(status));
            assert_eq!((done.updated_at, done.finished_at), (later, Some(later)));
            assert_eq!((done.id, done.created_at), (job.id, now));
        }
    }

    #[test]
    fn only_error_statuses_fail_a_job() {
        assert_eq!(failure_status(400), Ok(400));
        assert_eq!(failure_status(504), Ok(504));
        assert_eq!(failure_status(399), Err(NotAFailureStatus(399)));
        assert_eq!(failure_status(200), Err(NotAFailureStatus(200)));
    }

    #[test]
    fn job_kinds_read_back_from_their_stored_names() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::parse("rutter"), None);
    }

    #[test]
    fn raw_json_is_one_json_value() {
        assert!(RawJson::parse(" {\"a\": [1, 2.50]} \n").is_ok());
        assert!(
            RawJson::parse("{\"a\": 1} x").is_err(),
            "trailing characters"
        );
        assert!(RawJson::parse("{\"a\": ").is_err());
        assert!(RawJson::parse("").is_err());
        let raw = RawJson::parse("{\"b\": 1.230, \"a\": 1e400}").unwrap();
        assert_eq!(
            raw.as_str(),
            "{\"b\": 1.230, \"a\": 1e400}",
            "the text is kept"
        );
        assert_eq!(raw.to_value()["b"].to_string(), "1.230", "digits are kept");
    }

    #[test]
    fn a_stored_request_reads_back_exactly() {
        let r = request("{\"z\": 1, \"a\": \"caf\\u00e9\", \"n\": 10.10}");
        let head = r.stored_head();
        assert!(
            !head.contains("\"body\""),
            "the body is stored on its own: {head}"
        );
        let back = JobRequest::from_stored(&head, Some(r.body.as_str().to_owned())).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.body.as_str(), r.body.as_str());
    }

    #[test]
    fn a_request_stored_whole_by_earlier_versions_still_reads() {
        let legacy =
            r#"{"method":"POST","url":"/u","body":{"n":10.10,"t":[]},"idempotency_key":null}"#;
        let r = JobRequest::from_stored(legacy, None).unwrap();
        assert_eq!((r.method.as_str(), r.url.as_str()), ("POST", "/u"));
        let want: serde_json::Value = serde_json::from_str(r#"{"t": [], "n": 10.10}"#).unwrap();
        assert_eq!(r.body.to_value(), want);
        assert_eq!(r.body.to_value()["n"].to_string(), "10.10");
        assert_eq!(r.idempotency_key, None);
        assert!(
            JobRequest::from_stored(
                r#"{"method":"POST","url":"/u","idempotency_key":null}"#,
                None
            )
            .is_none(),
            "no body anywhere"
        );
        assert!(JobRequest::from_stored("not json", Some("{}".into())).is_none());
    }

    /// Seed 003: "If the job completes successfully, transactions have synced into the
    /// accounting system." The job says when that happened: once every transaction it stored
    /// was taken by the platform.
    #[test]
    fn the_platform_took_a_job_once_it_took_every_transaction() {
        let at = crate::ts("2024-06-15T12:00:00Z");
        let partly = JobIngestion {
            stored: 3,
            ingested: 2,
            last_ingested_at: Some(at),
        };
        assert_eq!(partly.platform_took_all_at(), None);
        let all = JobIngestion {
            ingested: 3,
            ..partly
        };
        assert_eq!(all.platform_took_all_at(), Some(at));
        assert_eq!(JobIngestion::default().platform_took_all_at(), None);
    }
}
