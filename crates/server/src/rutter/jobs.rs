//! `/versioned/jobs/:id`: the outcome of an asynchronous write, exactly as the synchronous call
//! would have answered.

use axum::extract::{Path, State};
use axum::Json as JsonOut;
use bankfeeds_domain::job::{JobIngestion, JobKind};
use bankfeeds_domain::{Job, JobId, JobStatus, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::parse_id;
use crate::http::responses::{Gone, Refusals};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AsyncResponseOut {
    pub id: String,
    /// Where to fetch the job.
    pub response_url: String,
    pub status: JobStatus,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AsyncEnvelopeOut {
    pub async_response: AsyncResponseOut,
}

pub fn async_envelope(public_base: &str, job: &Job) -> AsyncEnvelopeOut {
    AsyncEnvelopeOut {
        async_response: AsyncResponseOut {
            id: job.id.to_string(),
            response_url: format!("{public_base}/versioned/jobs/{}", job.id),
            status: job.status,
        },
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRequestOut {
    pub method: String,
    pub url: String,
    /// The body as sent; `null` once retention deleted it (see `bodies_deleted_at`).
    #[schema(value_type = Object, nullable)]
    pub body: serde_json::Value,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponseOut {
    pub http_status: u16,
    /// The body the synchronous call would have answered with; `null` once retention deleted
    /// it (see `bodies_deleted_at`).
    #[schema(value_type = Object, nullable)]
    pub body: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPlatformOut {
    pub transactions_stored: u64,
    pub transactions_ingested: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ingested_at: Option<Timestamp>,
}

impl From<JobIngestion> for JobPlatformOut {
    fn from(i: JobIngestion) -> Self {
        JobPlatformOut {
            transactions_stored: i.stored,
            transactions_ingested: i.ingested,
            ingested_at: i.platform_took_all_at(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobGetOut {
    pub job: JobOut,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        JobOut {
            id: j.id,
            status: j.status,
            request: JobRequestOut {
                method: j.request.method,
                url: j.request.url,
                body: j.request.body.to_value(),
                idempotency_key: j.request.idempotency_key,
            },
            response: j.response.map(|(http_status, body)| JobResponseOut {
                http_status,
                body: body.to_value(),
            }),
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
            bodies_deleted_at: j.bodies_deleted_at,
            platform: None,
        }
    }
}

/// Fetch a job of the calling organisation.
#[utoipa::path(
    get,
    path = "/versioned/jobs/{id}",
    tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobGetOut),
        Refusals, Gone,
    ),
    security(("basic" = []))
)]
pub async fn get_job(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<JobGetOut>> {
    let id: JobId = parse_id(&id, "job")?;
    let job = state.store.get_job(org.id, id).await?.ok_or_else(|| {
        ApiError::gone("JOB_NOT_FOUND", format!("no job {id} in this organisation"))
    })?;
    let ingestion = match (job.kind, job.status) {
        (JobKind::TransactionBatch, JobStatus::Success) => {
            Some(state.store.job_ingestion(job.id).await?)
        }
        _ => None,
    };
    let mut out = JobOut::from(job);
    out.platform = ingestion.map(JobPlatformOut::from);
    Ok(JsonOut(JobGetOut { job: out }))
}
