//! The job queue: accept, claim (head of each account's queue only), finish.
//!
//! What differs between the engines is kept beside the shared SQL: how bodies are stored
//! (`body`: LZ4-packed blobs on SQLite, text PostgreSQL compresses itself) and how a claim
//! picks its job (`claim`).

pub mod body;
mod claim;

use bankfeeds_domain::job::{JobKind, RawJson};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, Job, JobHead, JobId, JobStatus, OrgId, Timestamp,
};
use bankfeeds_store::decode::{corrupt, job};
use bankfeeds_store::{Idem, JobStore, NewEvent, Outcome, StoreError, StoreResult};

use crate::{
    events, idempotency, Arg, Backend, CountRow, DbBytes, DbId, DbInt, DbTime, Dialect, Exec, Sql,
    SqlStore, Tx,
};

#[derive(sqlx::FromRow)]
struct JobRow {
    id: DbId,
    kind: String,
    org_id: DbId,
    connection_id: DbId,
    account_id: Option<DbId>,
    status: String,
    request: String,
    request_body: Option<DbBytes>,
    request_packed: Option<bool>,
    response_status: Option<DbInt>,
    response_body: Option<DbBytes>,
    response_packed: Option<bool>,
    attempts: DbInt,
    created_at: DbTime,
    updated_at: DbTime,
    finished_at: Option<DbTime>,
    bodies_deleted_at: Option<DbTime>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> StoreResult<Self> {
        let response_body = body::unpack(r.response_body.map(|b| b.0), r.response_packed)
            .map_err(|_| corrupt("job_response_bodies.body"))?;
        let request_body = body::unpack(r.request_body.map(|b| b.0), r.request_packed)
            .map_err(|_| corrupt("job_request_bodies.body"))?;
        let deleted = r.bodies_deleted_at.is_some();
        let request_body = job::body_unless_deleted(request_body, deleted);
        let response_body = job::body_unless_deleted(response_body, deleted);
        Ok(Job {
            id: r.id.0.into(),
            kind: job::kind(&r.kind)?,
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            bank_feed_account_id: r.account_id.map(|a| a.0.into()),
            status: job::status(&r.status)?,
            request: job::request(&r.request, request_body)?,
            response: job::response(r.response_status.map(|s| s.0), response_body)?,
            attempts: u32::try_from(r.attempts.0).unwrap_or(u32::MAX),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            finished_at: r.finished_at.map(|t| t.0),
            bodies_deleted_at: r.bodies_deleted_at.map(|t| t.0),
        })
    }
}

/// A job's columns without its bodies.
#[derive(sqlx::FromRow)]
struct HeadRow {
    id: DbId,
    kind: String,
    connection_id: DbId,
    status: String,
    request: String,
    response_status: Option<DbInt>,
    created_at: DbTime,
    finished_at: Option<DbTime>,
}

impl TryFrom<HeadRow> for JobHead {
    type Error = StoreError;

    fn try_from(r: HeadRow) -> StoreResult<Self> {
        Ok(JobHead {
            id: r.id.0.into(),
            kind: job::kind(&r.kind)?,
            connection_id: r.connection_id.0.into(),
            status: job::status(&r.status)?,
            url: job::url(&r.request)?,
            response_status: job::response_status(r.response_status.map(|s| s.0))?,
            created_at: r.created_at.0,
            finished_at: r.finished_at.map(|t| t.0),
        })
    }
}

/// A job's columns, its bodies included, selected from `jobs j`. A body is in its own table, or
/// in the `jobs` row when that was written before the bodies had tables of their own; on SQLite
/// a body in its own table may be packed (see `body`), which its column's type tells.
fn select<B: Backend>() -> String {
    let (request, response) = match B::DIALECT {
        Dialect::Sqlite => (
            "CAST(q.body AS BLOB) AS request_body, typeof(q.body) = 'blob' AS request_packed",
            "CAST(COALESCE(r.body, j.response_body) AS BLOB) AS response_body,
             typeof(r.body) = 'blob' AS response_packed",
        ),
        Dialect::Postgres => (
            "q.body AS request_body, FALSE AS request_packed",
            "COALESCE(r.body, j.response_body) AS response_body, FALSE AS response_packed",
        ),
    };
    format!(
        "SELECT j.id, j.kind, j.org_id, j.connection_id, j.account_id, j.status, j.request,
            {request}, j.response_status, {response}, j.attempts, j.created_at,
            j.updated_at, j.finished_at, j.bodies_deleted_at
        FROM jobs j
        LEFT JOIN job_request_bodies q ON q.job_id = j.id
        LEFT JOIN job_response_bodies r ON r.job_id = j.id"
    )
}

pub async fn find<B: Backend>(conn: &mut impl Exec, id: JobId) -> StoreResult<Option<Job>> {
    let sql = format!("{} WHERE j.id = $1", select::<B>());
    conn.optional::<JobRow, _>(Sql::new(sql).bind(id.as_uuid()))
        .await
}

pub async fn load<B: Backend>(tx: &mut impl Exec, id: JobId) -> StoreResult<Job> {
    find::<B>(tx, id).await?.ok_or(StoreError::NotFound)
}

/// Reads a job and locks its row until the caller's transaction ends, so a job is finished
/// once: a second worker applying the same job waits here, then sees it finished.
pub async fn load_for_update<B: Backend>(tx: &mut impl Exec, id: JobId) -> StoreResult<Job> {
    let sql = format!(
        "{} WHERE j.id = $1{}",
        select::<B>(),
        B::DIALECT.for_update_of("j")
    );
    tx.one::<JobRow, _>(Sql::new(sql).bind(id.as_uuid())).await
}

#[derive(sqlx::FromRow)]
struct StateRow {
    status: String,
    attempts: DbInt,
}

/// A job's status and attempts, without its bodies.
pub async fn state(tx: &mut impl Exec, id: JobId) -> StoreResult<(JobStatus, u32)> {
    let row: StateRow = tx
        .fetch_one(Sql::new("SELECT status, attempts FROM jobs WHERE id = $1").bind(id.as_uuid()))
        .await?;
    Ok((
        job::status(&row.status)?,
        u32::try_from(row.attempts.0).unwrap_or(u32::MAX),
    ))
}

/// Records a job's outcome in the caller's transaction (with its event).
pub async fn finish<B: Backend>(
    tx: &mut impl Exec,
    job: &Job,
    status: u16,
    body: &RawJson,
    now: Timestamp,
) -> StoreResult<Job> {
    finish_stored(tx, job, status, body, body::stored::<B>(body.as_str()), now).await
}

/// `finish`, with the body already in its stored form (`body::stored`, worked out before the
/// write transaction).
pub async fn finish_stored(
    tx: &mut impl Exec,
    job: &Job,
    status: u16,
    body: &RawJson,
    stored: Arg,
    now: Timestamp,
) -> StoreResult<Job> {
    let done = job.finished(status, body.clone(), now);
    tx.execute(
        Sql::new(
            "UPDATE jobs SET status = $1, response_status = $2, locked_until = NULL,
                 updated_at = $3, finished_at = $3
             WHERE id = $4",
        )
        .bind(done.status.as_str())
        .bind(i64::from(status))
        .bind(now)
        .bind(job.id.as_uuid()),
    )
    .await?;
    tx.execute(
        Sql::new("INSERT INTO job_response_bodies (job_id, body) VALUES ($1, $2)")
            .bind(job.id.as_uuid())
            .bind(stored),
    )
    .await?;
    events::append(tx, &NewEvent::job_finished(&done, status), now).await?;
    Ok(done)
}

#[async_trait::async_trait]
impl<B: Backend> JobStore for SqlStore<B> {
    /// Claims a runnable job (or only `only`): unfinished, first in its account's queue, and
    /// not held under an unexpired lease; fair across organisations (see `claim`).
    async fn claim_job(
        &self,
        only: Option<JobId>,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>> {
        claim::claim_job(&self.0, only, holder, lease_until, now).await
    }

    async fn submit_job(
        &self,
        job: &Job,
        idem: Option<Idem<'_, Job>>,
    ) -> StoreResult<Outcome<Job>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, job.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        if let (Dialect::Postgres, Some(account)) = (B::DIALECT, job.bank_feed_account_id) {
            // Jobs of one account are queued in `seq` order, but sequence values are handed out at
            // INSERT and transactions commit in any order: without this, a job could become visible
            // behind a later-numbered job of its account that a worker already claimed, and then
            // be claimed too (two batches of one account at once, out of arrival order). Taking
            // turns per account until commit makes `seq` order the commit order within an account,
            // as SQLite's single writer does.
            tx.execute(
                Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("jobs:{account}")),
            )
            .await?;
        }
        // A repeated job id loses on the unique index: `Conflict("jobs_id_key")`.
        tx.execute(
            Sql::new(
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
            .bind(job.updated_at),
        )
        .await?;
        tx.execute(
            Sql::new("INSERT INTO job_request_bodies (job_id, body) VALUES ($1, $2)")
                .bind(job.id.as_uuid())
                .bind(body::stored::<B>(job.request.body.as_str())),
        )
        .await?;
        idempotency::finish(&mut tx, idem, job).await?;
        tx.commit().await?;
        Ok(Outcome::Done(job.clone()))
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>> {
        let db = &self.0;
        let sql = format!("{} WHERE j.org_id = $1 AND j.id = $2", select::<B>());
        db.reader()
            .optional::<JobRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
            .await
    }

    async fn list_connection_job_heads(
        &self,
        org: OrgId,
        connection: ConnectionId,
        kind: JobKind,
        limit: u32,
    ) -> StoreResult<Vec<JobHead>> {
        let db = &self.0;
        db.reader()
            .all::<HeadRow, _>(
                Sql::new(
                    "SELECT id, kind, connection_id, status, request, response_status, created_at,
                    finished_at
                 FROM jobs WHERE org_id = $1 AND connection_id = $2 AND kind = $3
                 ORDER BY seq DESC LIMIT $4",
                )
                .bind(org.as_uuid())
                .bind(connection.as_uuid())
                .bind(kind.as_str())
                .bind(limit),
            )
            .await
    }

    async fn renew_lease(
        &self,
        job: JobId,
        holder: &str,
        lease_until: Timestamp,
    ) -> StoreResult<bool> {
        let db = &self.0;
        let renewed = db
            .write_one(
                Sql::new(
                    "UPDATE jobs SET locked_until = $1
                 WHERE id = $2 AND locked_by = $3 AND status IN ('prequeued', 'pending')",
                )
                .bind(lease_until)
                .bind(job.as_uuid())
                .bind(holder),
            )
            .await?;
        Ok(renewed == 1)
    }

    async fn release_leases(&self, holder: &str) -> StoreResult<u64> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "UPDATE jobs SET locked_until = NULL, locked_by = NULL
             WHERE locked_by = $1 AND status IN ('prequeued', 'pending')",
            )
            .bind(holder),
        )
        .await
    }

    async fn fail_job(
        &self,
        id: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        bankfeeds_domain::job::failure_status(status)?;
        self.finish_job(id, status, body, now).await
    }

    async fn finish_job(
        &self,
        id: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let job = load_for_update::<B>(&mut tx, id).await?;
        if job.status.is_finished() {
            return Ok(job);
        }
        let job = finish::<B>(&mut tx, &job, status, &RawJson::from_value(body), now).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn count_failed_jobs(&self, org: OrgId, since: Timestamp) -> StoreResult<u64> {
        let row: CountRow = self
            .0
            .reader()
            .fetch_one(
                Sql::new(
                    "SELECT COUNT(*) AS n FROM jobs
                     WHERE org_id = $1 AND status = $2 AND finished_at >= $3",
                )
                .bind(org.as_uuid())
                .bind(JobStatus::Failure.as_str())
                .bind(since),
            )
            .await?;
        Ok(row.n.count())
    }

    async fn list_failed_jobs(
        &self,
        org: OrgId,
        account: Option<BankFeedAccountId>,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let sql = format!(
            "{} WHERE j.org_id = $1 AND j.status = $2 AND ($3 IS NULL OR j.account_id = $3)
             ORDER BY j.finished_at DESC, j.seq DESC LIMIT $4",
            select::<B>()
        );
        self.0
            .reader()
            .all::<JobRow, _>(
                Sql::new(sql)
                    .bind(org.as_uuid())
                    .bind(JobStatus::Failure.as_str())
                    .bind(account.map(|a| a.as_uuid()))
                    .bind(limit),
            )
            .await
    }

    async fn list_account_jobs(
        &self,
        org: OrgId,
        account: BankFeedAccountId,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let sql = format!(
            "{} WHERE j.org_id = $1 AND j.account_id = $2 ORDER BY j.seq DESC LIMIT $3",
            select::<B>()
        );
        self.0
            .reader()
            .all::<JobRow, _>(
                Sql::new(sql)
                    .bind(org.as_uuid())
                    .bind(account.as_uuid())
                    .bind(limit),
            )
            .await
    }
}
