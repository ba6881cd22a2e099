//! `/versioned/jobs/:id`: the outcome of an asynchronous write, exactly as the synchronous call
//! would have answered.

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::job::{JobIngestion, JobKind};
use bankfeeds_domain::{Job, JobId, JobStatus};

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::path::InPath;
use crate::http::responses::{Gone, Refusals};
use crate::state::AppState;

pub use bankfeeds_wire::jobs::*;

/// Names the job behind an accepted write.
pub const JOB_ID_HEADER: &str = "x-rutter-job-id";

pub fn async_envelope(public_base: &str, job: &Job) -> AsyncEnvelopeOut {
    AsyncEnvelopeOut {
        async_response: AsyncResponseOut {
            id: job.id.to_string(),
            response_url: format!("{public_base}/versioned/jobs/{}", job.id),
            status: job.status,
        },
    }
}

/// A batch job's ingestion as the door answers with it.
pub fn platform_out(i: JobIngestion) -> JobPlatformOut {
    JobPlatformOut {
        transactions_stored: i.stored,
        transactions_ingested: i.ingested,
        ingested_at: i.platform_took_all_at(),
    }
}

/// A job as the door answers with it (without `platform`, which needs another read).
pub fn job_out(j: Job) -> JobOut {
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

/// Fetch a job of the calling organisation.
#[utoipa::path(
    get,
    path = "/versioned/jobs/{id}",
    tag = "jobs",
    params(InPath<JobId>),
    responses(
        (status = 200, body = JobGetOut),
        Refusals, Gone,
    ),
)]
pub async fn get_job(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(id): InPath<JobId>,
) -> ApiResult<JsonOut<JobGetOut>> {
    let job = state.store.get_job(org.id, id).await?.ok_or_else(|| {
        ApiError::gone("JOB_NOT_FOUND", format!("no job {id} in this organisation"))
    })?;
    let ingestion = match (job.kind, job.status) {
        (JobKind::TransactionBatch, JobStatus::Success) => {
            Some(state.store.job_ingestion(job.id).await?)
        }
        _ => None,
    };
    let mut out = job_out(job);
    out.platform = ingestion.map(platform_out);
    Ok(JsonOut(JobGetOut { job: out }))
}
