//! The job queue on PostgreSQL: accept, claim (head of each account's queue only), finish.
//!
//! Several hub instances claim from one table. A claim is one `UPDATE` whose candidate is
//! picked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same job, and
//! only the first unfinished job of an account is ever a candidate, so they never take two jobs
//! of one account either.

use async_trait::async_trait;

use bankfeeds_domain::job::{JobKind, RawJson};
use bankfeeds_domain::{Job, JobHead, JobId, OrgId, Timestamp};
use bankfeeds_store::decode::job;
use bankfeeds_store::{Idem, NewEvent, Outcome, StoreError, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::PostgresStore;
use crate::{db, events, idempotency, map_err};

#[derive(FromRow)]
struct JobRow {
    id: Uuid,
    kind: String,
    org_id: Uuid,
    connection_id: Uuid,
    account_id: Option<Uuid>,
    status: String,
    request: String,
    request_body: Option<String>,
    response_status: Option<i32>,
    response_body: Option<String>,
    attempts: i32,
    created_at: Timestamp,
    updated_at: Timestamp,
    finished_at: Option<Timestamp>,
    bodies_deleted_at: Option<Timestamp>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> StoreResult<Self> {
        let deleted = r.bodies_deleted_at.is_some();
        let request_body = job::body_unless_deleted(r.request_body, deleted);
        let response_body = job::body_unless_deleted(r.response_body, deleted);
        Ok(Job {
            id: r.id.into(),
            kind: job::kind(&r.kind)?,
            org_id: r.org_id.into(),
            connection_id: r.connection_id.into(),
            bank_feed_account_id: r.account_id.map(Into::into),
            status: job::status(&r.status)?,
            request: job::request(&r.request, request_body)?,
            response: job::response(r.response_status.map(i64::from), response_body)?,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
            bodies_deleted_at: r.bodies_deleted_at,
        })
    }
}

/// A job's columns without its bodies.
#[derive(FromRow)]
struct HeadRow {
    id: Uuid,
    kind: String,
    connection_id: Uuid,
    status: String,
    request: String,
    response_status: Option<i32>,
    created_at: Timestamp,
    finished_at: Option<Timestamp>,
}

impl TryFrom<HeadRow> for JobHead {
    type Error = StoreError;
    fn try_from(r: HeadRow) -> StoreResult<Self> {
        Ok(JobHead {
            id: r.id.into(),
            kind: job::kind(&r.kind)?,
            connection_id: r.connection_id.into(),
            status: job::status(&r.status)?,
            url: job::url(&r.request)?,
            response_status: job::response_status(r.response_status.map(i64::from))?,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
    }
}

/// A job's columns, its bodies included, selected from `jobs j`. A body is in its own table, or
/// in the `jobs` row when that was written before the bodies had tables of their own.
const SELECT: &str =
    "SELECT j.id, j.kind, j.org_id, j.connection_id, j.account_id, j.status, j.request,
        q.body AS request_body, j.response_status,
        COALESCE(r.body, j.response_body) AS response_body, j.attempts, j.created_at,
        j.updated_at, j.finished_at, j.bodies_deleted_at
    FROM jobs j
    LEFT JOIN job_request_bodies q ON q.job_id = j.id
    LEFT JOIN job_response_bodies r ON r.job_id = j.id";

/// Reads a job and locks its row until the caller's transaction ends, so a job is finished
/// once: a second worker applying the same job waits here, then sees it finished.
pub(crate) async fn load_for_update(tx: &mut PgConnection, id: JobId) -> StoreResult<Job> {
    let sql = format!("{SELECT} WHERE j.id = $1 FOR UPDATE OF j");
    let query = sqlx::query_as::<_, JobRow>(&sql).bind(id.as_uuid());
    db::one(query, &mut *tx).await
}

/// Records a job's outcome in the caller's transaction (with its event).
pub(crate) async fn finish(
    tx: &mut PgConnection,
    job: &Job,
    status: u16,
    body: &RawJson,
    now: Timestamp,
) -> StoreResult<Job> {
    let done = job.finished(status, body.clone(), now);
    sqlx::query(
        "UPDATE jobs SET status = $1, response_status = $2, locked_until = NULL,
             updated_at = $3, finished_at = $3
         WHERE id = $4",
    )
    .bind(done.status.as_str())
    .bind(i32::from(status))
    .bind(now)
    .bind(job.id.as_uuid())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query("INSERT INTO job_response_bodies (job_id, body) VALUES ($1, $2)")
        .bind(job.id.as_uuid())
        .bind(body.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    events::append(tx, &NewEvent::job_finished(&done, status), now).await?;
    Ok(done)
}

/// Whether `j` may be claimed at `$1`: unfinished, not under an unexpired lease, and first
/// among its account's unfinished jobs (one batch at a time per account, in arrival order).
macro_rules! runnable {
    () => {
        "j.status IN ('prequeued', 'pending')
        AND (j.locked_until IS NULL OR j.locked_until < $1)
        AND NOT EXISTS (
            SELECT 1 FROM jobs e
            WHERE e.account_id = j.account_id AND e.status IN ('prequeued', 'pending')
              AND e.seq < j.seq)"
    };
}

/// The organisations with a runnable job, in the order a claim should serve them: the fewest jobs
/// running (leased until after `$1`) first, then the one whose last claim is oldest (round robin
/// among equally busy ones, so a single worker alternates too), then the oldest runnable job.
/// Each organisation's first runnable job is found through `jobs_unfinished_by_org` and its
/// running count through `jobs_leased_by_org`, so the cost grows with the number of
/// organisations, not with any one's backlog (apart from the queued jobs of its accounts whose
/// head is running, which the scan for its first runnable job steps over).
const RANKED_ORGS: &str = concat!(
    "SELECT o.id FROM orgs o
    CROSS JOIN LATERAL (
        SELECT j.seq FROM jobs j WHERE j.org_id = o.id AND ",
    runnable!(),
    " ORDER BY j.seq LIMIT 1) h
    LEFT JOIN job_org_turns t ON t.org_id = o.id
    ORDER BY (SELECT count(*) FROM jobs r
              WHERE r.org_id = o.id AND r.status = 'pending' AND r.locked_until >= $1),
        t.last_claimed_at ASC NULLS FIRST, h.seq
    LIMIT 4"
);

/// Claims the oldest runnable job (of organisation `$5`, or only `$3`, when given) and records
/// the organisation's turn, in one statement.
///
/// Only the head of an account's unfinished jobs is a candidate (`NOT EXISTS`), so at most one
/// job per account can be claimed at a time; `SKIP LOCKED` passes over a candidate another
/// claimer (or a worker finishing it) holds, and the outer `WHERE` re-checks status and lease on
/// the row as locked, so a job is never claimed twice under one lease.
const CLAIM: &str = concat!(
    "WITH claimed AS (
        UPDATE jobs SET status = 'pending', locked_until = $2, locked_by = $4,
            attempts = attempts + 1, updated_at = $1
        WHERE seq = (
            SELECT j.seq FROM jobs j
            WHERE ($3::uuid IS NULL OR j.id = $3) AND ($5::uuid IS NULL OR j.org_id = $5) AND ",
    runnable!(),
    " ORDER BY j.seq LIMIT 1
            FOR UPDATE OF j SKIP LOCKED)
          AND status IN ('prequeued', 'pending')
          AND (locked_until IS NULL OR locked_until < $1)
        RETURNING id, org_id),
    turn AS (
        INSERT INTO job_org_turns (org_id, last_claimed_at) SELECT org_id, $1 FROM claimed
        ON CONFLICT (org_id) DO UPDATE
        SET last_claimed_at = GREATEST(job_org_turns.last_claimed_at, excluded.last_claimed_at))
    SELECT id FROM claimed"
);

async fn claim_one(
    pool: &sqlx::PgPool,
    only: Option<Uuid>,
    org: Option<Uuid>,
    holder: &str,
    lease_until: Timestamp,
    now: Timestamp,
) -> StoreResult<Option<Uuid>> {
    sqlx::query_scalar(CLAIM)
        .bind(now)
        .bind(lease_until)
        .bind(only)
        .bind(holder)
        .bind(org)
        .fetch_optional(pool)
        .await
        .map_err(map_err)
}

#[async_trait]
impl bankfeeds_store::JobStore for PostgresStore {
    async fn submit_job(
        &self,
        job: &Job,
        idem: Option<Idem<'_, Job>>,
    ) -> StoreResult<Outcome<Job>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, job.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        if let Some(account) = job.bank_feed_account_id {
            // Jobs of one account are queued in `seq` order, but sequence values are handed out at
            // INSERT and transactions commit in any order: without this, a job could become visible
            // behind a later-numbered job of its account that a worker already claimed, and then
            // be claimed too (two batches of one account at once, out of arrival order). Taking
            // turns per account until commit makes `seq` order the commit order within an account,
            // as SQLite's single writer does.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("jobs:{account}"))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        // A repeated job id loses on the unique index: `Conflict("jobs_id_key")`.
        sqlx::query(
            "INSERT INTO jobs (id, kind, org_id, connection_id, account_id, status, request,
             attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        )
        .bind(job.id.as_uuid())
        .bind(job.kind.as_str())
        .bind(job.org_id.as_uuid())
        .bind(job.connection_id.as_uuid())
        .bind(job.bank_feed_account_id.map(|a| a.as_uuid()))
        .bind(job.status.as_str())
        .bind(job.request.stored_head())
        .bind(job.created_at)
        .bind(job.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO job_request_bodies (job_id, body) VALUES ($1, $2)")
            .bind(job.id.as_uuid())
            .bind(job.request.body.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        idempotency::finish(&mut tx, idem, job).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Outcome::Done(job.clone()))
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>> {
        let row: Option<JobRow> =
            sqlx::query_as(&format!("{SELECT} WHERE j.org_id = $1 AND j.id = $2"))
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.map(Job::try_from).transpose()
    }

    async fn list_connection_job_heads(
        &self,
        org: OrgId,
        connection: bankfeeds_domain::ConnectionId,
        kind: JobKind,
        limit: u32,
    ) -> StoreResult<Vec<JobHead>> {
        let query = sqlx::query_as::<_, HeadRow>(
            "SELECT id, kind, connection_id, status, request, response_status, created_at,
                finished_at
            FROM jobs WHERE org_id = $1 AND connection_id = $2 AND kind = $3
            ORDER BY seq DESC LIMIT $4",
        )
        .bind(org.as_uuid())
        .bind(connection.as_uuid())
        .bind(kind.as_str())
        .bind(i64::from(limit));
        db::all(query, &self.pool).await
    }

    /// Claims a runnable job (or only `only`): unfinished, first in its account's queue, and not
    /// held under an unexpired lease; fair across organisations (see [`RANKED_ORGS`]).
    async fn claim_job(
        &self,
        only: Option<JobId>,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>> {
        let only = only.map(|j| j.as_uuid());
        let claimed = match only {
            Some(_) => claim_one(&self.pool, only, None, holder, lease_until, now).await?,
            None => {
                // Ranked without locks; another claimer may take an organisation's candidate in
                // between, so each is tried in turn, then the whole queue. When none is ranked,
                // nothing was runnable: the caller looks again later (an idle worker polls).
                let ranked: Vec<Uuid> = sqlx::query_scalar(RANKED_ORGS)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                let mut claimed = None;
                for org in &ranked {
                    claimed =
                        claim_one(&self.pool, None, Some(*org), holder, lease_until, now).await?;
                    if claimed.is_some() {
                        break;
                    }
                }
                if claimed.is_none() && !ranked.is_empty() {
                    claimed = claim_one(&self.pool, None, None, holder, lease_until, now).await?;
                }
                claimed
            }
        };
        // The claim, then the job with its bodies. Between the two the job is leased to this
        // caller, and a job's bodies never change once written (the response is written once).
        let Some(id) = claimed else {
            return Ok(None);
        };
        let sql = format!("{SELECT} WHERE j.id = $1");
        let query = sqlx::query_as::<_, JobRow>(&sql).bind(id);
        db::optional(query, &self.pool).await
    }

    async fn renew_lease(
        &self,
        job: JobId,
        holder: &str,
        lease_until: Timestamp,
    ) -> StoreResult<bool> {
        let query = sqlx::query(
            "UPDATE jobs SET locked_until = $1
             WHERE id = $2 AND locked_by = $3 AND status IN ('prequeued', 'pending')",
        )
        .bind(lease_until)
        .bind(job.as_uuid())
        .bind(holder);
        Ok(db::execute(query, &self.pool).await? == 1)
    }

    async fn release_leases(&self, holder: &str) -> StoreResult<u64> {
        let query = sqlx::query(
            "UPDATE jobs SET locked_until = NULL, locked_by = NULL
             WHERE locked_by = $1 AND status IN ('prequeued', 'pending')",
        )
        .bind(holder);
        db::execute(query, &self.pool).await
    }

    async fn fail_job(
        &self,
        id: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        bankfeeds_domain::job::failure_status(status)?;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let job = load_for_update(&mut tx, id).await?;
        if job.status.is_finished() {
            return Ok(job);
        }
        let job = finish(&mut tx, &job, status, &RawJson::from_value(body), now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(job)
    }
}
