-- Fair claiming across organisations (issue 12, item 10). A claim picks the organisation with
-- the fewest jobs running (under an unexpired lease), then the one served longest ago, then the
-- oldest runnable job; so one organisation's backlog no longer delays everyone else's batches.
-- Each organisation's candidates are found through its own slice of the queue, so a claim looks
-- at each organisation's first runnable jobs, not at another organisation's whole backlog.
CREATE INDEX jobs_unfinished_by_org ON jobs (org_id, seq) WHERE status IN ('prequeued', 'pending');
CREATE INDEX jobs_leased_by_org ON jobs (org_id, locked_until) WHERE status = 'pending';

-- When each organisation last had a job claimed: the round-robin turn between organisations
-- that are equally busy.
CREATE TABLE job_org_turns (
    org_id          TEXT PRIMARY KEY NOT NULL,
    last_claimed_at INTEGER NOT NULL
);
