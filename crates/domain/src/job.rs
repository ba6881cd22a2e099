//! Jobs: asynchronous writes (transaction batches) and their outcomes.
//!
//! A job is accepted (`prequeued`), picked up (`pending`), and finishes `success` or `failure`
//! with the HTTP status and body the synchronous call would have answered. Jobs for one bank
//! feed account run one at a time, in the order they were accepted.

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

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Prequeued => "prequeued",
            JobStatus::Pending => "pending",
            JobStatus::Success => "success",
            JobStatus::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "prequeued" => Some(JobStatus::Prequeued),
            "pending" => Some(JobStatus::Pending),
            "success" => Some(JobStatus::Success),
            "failure" => Some(JobStatus::Failure),
            _ => None,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failure)
    }
}

/// The request that created a job, as `GET /jobs/:id` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    pub method: String,
    /// Path and query, with the access token removed.
    pub url: String,
    pub body: serde_json::Value,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub bank_feed_account_id: Option<BankFeedAccountId>,
    pub status: JobStatus,
    pub request: JobRequest,
    /// HTTP status and JSON body of the outcome, once finished.
    pub response: Option<(u16, serde_json::Value)>,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl Job {
    pub fn new(
        org_id: OrgId,
        connection_id: ConnectionId,
        bank_feed_account_id: Option<BankFeedAccountId>,
        request: JobRequest,
        now: Timestamp,
    ) -> Self {
        Job {
            id: JobId::new(),
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
        }
    }
}
