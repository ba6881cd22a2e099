//! Claiming the next job: only the head of an account's unfinished jobs, not under an
//! unexpired lease, fair across organisations. The two engines pick it differently: SQLite's one
//! writer claims in one `UPDATE … WHERE seq = (candidate)`; on PostgreSQL several instances
//! claim at once, so organisations are ranked without locks and each claim is one statement
//! whose candidate is picked `FOR UPDATE SKIP LOCKED` (concurrent claimers never take the same
//! job, nor two jobs of one account).

use bankfeeds_domain::{Job, JobId, Timestamp};
use bankfeeds_store::StoreResult;

use super::load;
use crate::{Backend, DbId, Dialect, Exec, Sql, Tx};

/// Whether `j` may be claimed at `$1`: unfinished, not under an unexpired lease, and first
/// among its account's unfinished jobs (one batch at a time per account, in arrival order).
/// Both engines' claims bind the time as `$1`.
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

/// The job `$4`, if runnable.
const SQLITE_ONLY: &str = concat!("SELECT j.seq FROM jobs j WHERE j.id = $4 AND ", runnable!());

/// The job to claim next, fair across organisations: from the organisation with the fewest jobs
/// running (leased until after `$1`), then the one whose last claim is oldest (round robin among
/// equally busy ones, so a single worker alternates too), its oldest runnable job. Each
/// organisation's first runnable job is found through `jobs_unfinished_by_org` and its running
/// count through `jobs_leased_by_org`, so the cost grows with the number of organisations, not
/// with any one's backlog (apart from the queued jobs of its accounts whose head is running,
/// which the scan for its first runnable job steps over).
const SQLITE_FAIR: &str = concat!(
    "SELECT c.head FROM (
        SELECT o.id,
            (SELECT j.seq FROM jobs j WHERE j.org_id = o.id AND ",
    runnable!(),
    " ORDER BY j.seq LIMIT 1) AS head,
            (SELECT count(*) FROM jobs r
             WHERE r.org_id = o.id AND r.status = 'pending' AND r.locked_until >= $1) AS running,
            t.last_claimed_at AS turn
        FROM orgs o LEFT JOIN job_org_turns t ON t.org_id = o.id) c
    WHERE c.head IS NOT NULL AND $4 IS NULL
    ORDER BY c.running, c.turn IS NOT NULL, c.turn, c.head
    LIMIT 1"
);

/// The organisations with a runnable job, in the order a claim should serve them: the fewest jobs
/// running (leased until after `$1`) first, then the one whose last claim is oldest (round robin
/// among equally busy ones, so a single worker alternates too), then the oldest runnable job.
/// Each organisation's first runnable job is found through `jobs_unfinished_by_org` and its
/// running count through `jobs_leased_by_org`, so the cost grows with the number of
/// organisations, not with any one's backlog (apart from the queued jobs of its accounts whose
/// head is running, which the scan for its first runnable job steps over).
const POSTGRES_RANKED_ORGS: &str = concat!(
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
const POSTGRES_CLAIM: &str = concat!(
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

#[derive(sqlx::FromRow)]
struct Claimed {
    id: DbId,
    org_id: DbId,
}

#[derive(sqlx::FromRow)]
struct RankedOrg {
    id: DbId,
}

/// What a claim asks for: a runnable job (or only `only`) for `holder` until `lease_until`,
/// as runnable at `now`.
struct Claim<'a> {
    only: Option<JobId>,
    holder: &'a str,
    lease_until: Timestamp,
    now: Timestamp,
}

/// Claims a runnable job (or only `only`) for `holder` until `lease_until`.
pub async fn claim_job<B: Backend>(
    db: &B,
    only: Option<JobId>,
    holder: &str,
    lease_until: Timestamp,
    now: Timestamp,
) -> StoreResult<Option<Job>> {
    let claim = Claim {
        only,
        holder,
        lease_until,
        now,
    };
    match B::DIALECT {
        Dialect::Sqlite => claim_sqlite(db, &claim).await,
        Dialect::Postgres => claim_postgres(db, &claim).await,
    }
}

async fn claim_sqlite<B: Backend>(db: &B, c: &Claim<'_>) -> StoreResult<Option<Job>> {
    let mut tx = db.write().await?;
    let candidate = if c.only.is_some() {
        SQLITE_ONLY
    } else {
        SQLITE_FAIR
    };
    let sql = format!(
        "UPDATE jobs SET status = 'pending', locked_until = $2, locked_by = $3,
            attempts = attempts + 1, updated_at = $1
         WHERE seq = ({candidate})
         RETURNING id, org_id"
    );
    let claimed: Option<Claimed> = tx
        .fetch_optional(
            Sql::new(sql)
                .bind(c.now)
                .bind(c.lease_until)
                .bind(c.holder)
                .bind(c.only.map(|j| j.as_uuid())),
        )
        .await?;
    let job = match claimed {
        Some(claimed) => {
            tx.execute(
                Sql::new(
                    "INSERT INTO job_org_turns (org_id, last_claimed_at) VALUES ($1, $2)
                     ON CONFLICT (org_id) DO UPDATE
                     SET last_claimed_at = MAX(last_claimed_at, excluded.last_claimed_at)",
                )
                .bind(claimed.org_id.0)
                .bind(c.now),
            )
            .await?;
            Some(load::<B>(&mut tx, claimed.id.0.into()).await?)
        }
        None => None,
    };
    tx.commit().await?;
    Ok(job)
}

/// One claim statement (of organisation `org`, or only `c.only`, when given).
async fn claim_one<B: Backend>(
    db: &B,
    c: &Claim<'_>,
    org: Option<&DbId>,
) -> StoreResult<Option<DbId>> {
    // On the pool: each claim commits by itself, its lock held only for the statement.
    let claimed: Option<RankedOrg> = db
        .reader()
        .fetch_optional(
            Sql::new(POSTGRES_CLAIM)
                .bind(c.now)
                .bind(c.lease_until)
                .bind(c.only.map(|j| j.as_uuid()))
                .bind(c.holder)
                .bind(org.map(|o| o.0)),
        )
        .await?;
    Ok(claimed.map(|c| c.id))
}

async fn claim_postgres<B: Backend>(db: &B, c: &Claim<'_>) -> StoreResult<Option<Job>> {
    let claimed = match c.only {
        Some(_) => claim_one(db, c, None).await?,
        None => {
            // Ranked without locks; another claimer may take an organisation's candidate in
            // between, so each is tried in turn, then the whole queue. When none is ranked,
            // nothing was runnable: the caller looks again later (an idle worker polls).
            let ranked: Vec<RankedOrg> = db
                .reader()
                .fetch_all(Sql::new(POSTGRES_RANKED_ORGS).bind(c.now))
                .await?;
            let mut claimed = None;
            for org in &ranked {
                claimed = claim_one(db, c, Some(&org.id)).await?;
                if claimed.is_some() {
                    break;
                }
            }
            if claimed.is_none() && !ranked.is_empty() {
                claimed = claim_one(db, c, None).await?;
            }
            claimed
        }
    };
    // The claim, then the job with its bodies. Between the two the job is leased to this
    // caller, and a job's bodies never change once written (the response is written once).
    let Some(id) = claimed else {
        return Ok(None);
    };
    super::find::<B>(&mut db.reader(), id.0.into()).await
}
