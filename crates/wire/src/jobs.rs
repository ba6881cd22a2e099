//! `/versioned/jobs/:id` and the job envelope an asynchronous write answers with.

use bankfeeds_domain::{JobId, JobStatus, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AsyncResponseOut {
    pub id: String,
    /// Where to fetch the job.
    pub response_url: String,
    pub status: JobStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AsyncEnvelopeOut {
    pub async_response: AsyncResponseOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobRequestOut {
    pub method: String,
    pub url: String,
    /// The body as sent; `null` once retention deleted it (see `bodies_deleted_at`).
    #[schema(value_type = Object, nullable)]
    pub body: serde_json::Value,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobResponseOut {
    pub http_status: u16,
    /// The body the synchronous call would have answered with; `null` once retention deleted
    /// it (see `bodies_deleted_at`).
    #[schema(value_type = Object, nullable)]
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobOut {
    pub id: JobId,
    pub status: JobStatus,
    pub request: JobRequestOut,
    /// Present once the job has finished.
    pub response: Option<JobResponseOut>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    /// Present once retention deleted the job's request and response bodies (by default 30
    /// days after it finished, `retention_job_body_days`): `request.body` and `response.body`
    /// are then `null`; `status` and `response.http_status` still say how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub bodies_deleted_at: Option<Timestamp>,
    /// A batch job: how many transactions it stored (re-sent duplicates belong to the job that
    /// first stored them) and how many of those the accounting platform has taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<JobPlatformOut>,
}

/// Where a batch job's transactions are: `success` means stored by the hub; `ingested_at` says
/// when the platform had taken every one of them (null until then).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobPlatformOut {
    pub transactions_stored: u64,
    pub transactions_ingested: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ingested_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobGetOut {
    pub job: JobOut,
}
