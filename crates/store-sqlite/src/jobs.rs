//! The job queue on SQLite: accept, claim (head of each account's queue only), finish.

use async_trait::async_trait;

use bankfeeds_domain::job::{JobKind, RawJson};
use bankfeeds_domain::{Job, JobHead, JobId, JobStatus, OrgId, Timestamp};
use bankfeeds_store::decode::{corrupt, job};
use bankfeeds_store::{Idem, NewEvent, Outcome, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{body, db, events, idempotency, map_err, time, SqliteStore};

#[derive(FromRow)]
pub(crate) struct JobRow {
    id: DbUuid,
    kind: String,
    org_id: DbUuid,
    connection_id: DbUuid,
    account_id: Option<DbUuid>,
    status: String,
    request: String,
    request_body: Option<Vec<u8>>,
    request_packed: Option<bool>,
    response_status: Option<i64>,
    response_body: Option<Vec<u8>>,
    response_packed: Option<bool>,
    attempts: i64,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
    bodies_deleted_at: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> StoreResult<Self> {
        let response_body = body::unpack(r.response_body, r.response_packed)
            .map_err(|_| corrupt("job_response_bodies.body"))?;
        let request_body = body::unpack(r.request_body, r.request_packed)
            .map_err(|_| corrupt("job_request_bodies.body"))?;
        let deleted = r.bodies_deleted_at.is_some();
        let request_body = job::body_unless_deleted(request_body, deleted);
        let response_body = job::body_unless_deleted(response_body, deleted);
        Ok(Job {
            id: r.id.into_uuid().into(),
            kind: job::kind(&r.kind)?,
            org_id: r.org_id.into_uuid().into(),
            connection_id: r.connection_id.into_uuid().into(),
            bank_feed_account_id: r.account_id.map(|u| u.into_uuid().into()),
            status: job::status(&r.status)?,
            request: job::request(&r.request, request_body)?,
            response: job::response(r.response_status, response_body)?,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
            finished_at: time::opt_from_db(r.finished_at)?,
            bodies_deleted_at: time::opt_from_db(r.bodies_deleted_at)?,
        })
    }
}

/// A job's columns without its bodies.
#[derive(FromRow)]
struct HeadRow {
    id: DbUuid,
    kind: String,
    connection_id: DbUuid,
    status: String,
    request: String,
    response_status: Option<i64>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<HeadRow> for JobHead {
    type Error = StoreError;
    fn try_from(r: HeadRow) -> StoreResult<Self> {
        Ok(JobHead {
            id: r.id.into_uuid().into(),
            kind: job::kind(&r.kind)?,
            connection_id: r.connection_id.into_uuid().into(),
            status: job::status(&r.status)?,
            url: job::url(&r.request)?,
            response_status: job::response_status(r.response_status)?,
            created_at: time::from_db(r.created_at)?,
            finished_at: time::opt_from_db(r.finished_at)?,
        })
    }
}

/// A job's columns, its bodies included, selected from `jobs j`. A body is in its own table, or
/// in the `jobs` row when that was written before the bodies had tables of their own; in its
/// own table it may be packed (see `body`).
const SELECT: &str =
    "SELECT j.id, j.kind, j.org_id, j.connection_id, j.account_id, j.status, j.request,
        CAST(q.body AS BLOB) AS request_body, typeof(q.body) = 'blob' AS request_packed,
        j.response_status, CAST(COALESCE(r.body, j.response_body) AS BLOB) AS response_body,
        typeof(r.body) = 'blob' AS response_packed, j.attempts, j.created_at,
        j.updated_at, j.finished_at, j.bodies_deleted_at
    FROM jobs j
    LEFT JOIN job_request_bodies q ON q.job_id = j.id
    LEFT JOIN job_response_bodies r ON r.job_id = j.id";

pub(crate) async fn find(conn: &mut SqliteConnection, id: JobId) -> StoreResult<Option<Job>> {
    let sql = format!("{SELECT} WHERE j.id = ?");
    let query = sqlx::query_as::<_, JobRow>(&sql).bind(id.to_string());
    db::optional(query, &mut *conn).await
}

pub(crate) async fn load(tx: &mut SqliteConnection, id: JobId) -> StoreResult<Job> {
    find(tx, id).await?.ok_or(StoreError::NotFound)
}

/// A job's status and attempts, without its bodies.
pub(crate) async fn state(tx: &mut SqliteConnection, id: JobId) -> StoreResult<(JobStatus, u32)> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    let (status, attempts) = row.ok_or(StoreError::NotFound)?;
    Ok((
        job::status(&status)?,
        u32::try_from(attempts).unwrap_or(u32::MAX),
    ))
}

/// Records a job's outcome in the caller's transaction (with its event).
pub(crate) async fn finish(
    tx: &mut SqliteConnection,
    job: &Job,
    status: u16,
    body: &RawJson,
    now: Timestamp,
) -> StoreResult<Job> {
    finish_packed(tx, job, status, body, body::pack(body.as_str()), now).await
}

/// `finish`, with the body already packed for storage (outside the write lock).
pub(crate) async fn finish_packed(
    tx: &mut SqliteConnection,
    job: &Job,
    status: u16,
    body: &RawJson,
    packed: body::Stored<'_>,
    now: Timestamp,
) -> StoreResult<Job> {
    let done = job.finished(status, body.clone(), now);
    sqlx::query(
        "UPDATE jobs SET status = ?, response_status = ?, locked_until = NULL, updated_at = ?,
             finished_at = ?
         WHERE id = ?",
    )
    .bind(done.status.as_str())
    .bind(i64::from(status))
    .bind(time::to_db(now))
    .bind(time::to_db(now))
    .bind(job.id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query("INSERT INTO job_response_bodies (job_id, body) VALUES (?, ?)")
        .bind(job.id.to_string())
        .bind(packed)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    events::append(tx, &NewEvent::job_finished(&done, status), now).await?;
    Ok(done)
}

/// Whether `j` may be claimed at `?3`: unfinished, not under an unexpired lease, and first
/// among its account's unfinished jobs (one batch at a time per account, in arrival order).
macro_rules! runnable {
    () => {
        "j.status IN ('prequeued', 'pending')
        AND (j.locked_until IS NULL OR j.locked_until < ?3)
        AND NOT EXISTS (
            SELECT 1 FROM jobs e
            WHERE e.account_id = j.account_id AND e.status IN ('prequeued', 'pending')
              AND e.seq < j.seq)"
    };
}

/// The job `?4`, if runnable.
const ONLY_CANDIDATE: &str = concat!("SELECT j.seq FROM jobs j WHERE j.id = ?4 AND ", runnable!());

/// The job to claim next, fair across organisations: from the organisation with the fewest jobs
/// running (leased until after `?3`), then the one whose last claim is oldest (round robin among
/// equally busy ones, so a single worker alternates too), its oldest runnable job. Each
/// organisation's first runnable job is found through `jobs_unfinished_by_org` and its running
/// count through `jobs_leased_by_org`, so the cost grows with the number of organisations, not
/// with any one's backlog (apart from the queued jobs of its accounts whose head is running,
/// which the scan for its first runnable job steps over).
const FAIR_CANDIDATE: &str = concat!(
    "SELECT c.head FROM (
        SELECT o.id,
            (SELECT j.seq FROM jobs j WHERE j.org_id = o.id AND ",
    runnable!(),
    " ORDER BY j.seq LIMIT 1) AS head,
            (SELECT count(*) FROM jobs r
             WHERE r.org_id = o.id AND r.status = 'pending' AND r.locked_until >= ?3) AS running,
            t.last_claimed_at AS turn
        FROM orgs o LEFT JOIN job_org_turns t ON t.org_id = o.id) c
    WHERE c.head IS NOT NULL AND ?4 IS NULL
    ORDER BY c.running, c.turn IS NOT NULL, c.turn, c.head
    LIMIT 1"
);

#[async_trait]
impl bankfeeds_store::JobStore for SqliteStore {
    async fn submit_job(
        &self,
        job: &Job,
        idem: Option<Idem<'_, Job>>,
    ) -> StoreResult<Outcome<Job>> {
        let mut tx = self.write_tx().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, job.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        sqlx::query(
            "INSERT INTO jobs (id, kind, org_id, connection_id, account_id, status, request,
             attempts, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(job.id.to_string())
        .bind(job.kind.as_str())
        .bind(job.org_id.to_string())
        .bind(job.connection_id.to_string())
        .bind(job.bank_feed_account_id.map(|a| a.to_string()))
        .bind(job.status.as_str())
        .bind(job.request.stored_head())
        .bind(time::to_db(job.created_at))
        .bind(time::to_db(job.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO job_request_bodies (job_id, body) VALUES (?, ?)")
            .bind(job.id.to_string())
            .bind(body::pack(job.request.body.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        idempotency::finish(&mut tx, idem, job).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Outcome::Done(job.clone()))
    }

    async fn get_job(&self, org: OrgId, id: JobId) -> StoreResult<Option<Job>> {
        let sql = format!("{SELECT} WHERE j.org_id = ? AND j.id = ?");
        let query = sqlx::query_as::<_, JobRow>(&sql)
            .bind(org.to_string())
            .bind(id.to_string());
        db::optional(query, &self.reader).await
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
            FROM jobs WHERE org_id = ? AND connection_id = ? AND kind = ?
            ORDER BY seq DESC LIMIT ?",
        )
        .bind(org.to_string())
        .bind(connection.to_string())
        .bind(kind.as_str())
        .bind(i64::from(limit));
        db::all(query, &self.reader).await
    }

    /// Claims a runnable job (or only `only`): unfinished, first in its account's queue, and not
    /// held under an unexpired lease. Among organisations, see [`FAIR_CANDIDATE`].
    async fn claim_job(
        &self,
        only: Option<JobId>,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Job>> {
        let mut tx = self.write_tx().await?;
        let candidate = if only.is_some() {
            ONLY_CANDIDATE
        } else {
            FAIR_CANDIDATE
        };
        let sql = format!(
            "UPDATE jobs SET status = 'pending', locked_until = ?1, locked_by = ?2,
                attempts = attempts + 1, updated_at = ?3
             WHERE seq = ({candidate})
             RETURNING id, org_id"
        );
        let claimed: Option<(DbUuid, String)> = sqlx::query_as(&sql)
            .bind(time::to_db(lease_until))
            .bind(holder)
            .bind(time::to_db(now))
            .bind(only.map(|j| j.to_string()))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let job = match claimed {
            Some((id, org)) => {
                sqlx::query(
                    "INSERT INTO job_org_turns (org_id, last_claimed_at) VALUES (?, ?)
                     ON CONFLICT (org_id) DO UPDATE
                     SET last_claimed_at = MAX(last_claimed_at, excluded.last_claimed_at)",
                )
                .bind(org)
                .bind(time::to_db(now))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                Some(load(&mut tx, id.into_uuid().into()).await?)
            }
            None => None,
        };
        tx.commit().await.map_err(map_err)?;
        Ok(job)
    }

    async fn renew_lease(
        &self,
        job: JobId,
        holder: &str,
        lease_until: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let query = sqlx::query(
            "UPDATE jobs SET locked_until = ?
             WHERE id = ? AND locked_by = ? AND status IN ('prequeued', 'pending')",
        )
        .bind(time::to_db(lease_until))
        .bind(job.to_string())
        .bind(holder);
        let renewed = db::execute(query, &mut *tx).await? == 1;
        tx.commit().await.map_err(map_err)?;
        Ok(renewed)
    }

    async fn release_leases(&self, holder: &str) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let query = sqlx::query(
            "UPDATE jobs SET locked_until = NULL, locked_by = NULL
             WHERE locked_by = ? AND status IN ('prequeued', 'pending')",
        )
        .bind(holder);
        let released = db::execute(query, &mut *tx).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(released)
    }

    async fn fail_job(
        &self,
        id: JobId,
        status: u16,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<Job> {
        bankfeeds_domain::job::failure_status(status)?;
        let mut tx = self.write_tx().await?;
        let job = load(&mut tx, id).await?;
        if job.status.is_finished() {
            return Ok(job);
        }
        let job = finish(&mut tx, &job, status, &RawJson::from_value(body), now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(job)
    }
}
