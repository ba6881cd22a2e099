-- A job's request and response bodies in tables of their own. Claiming and finishing a job
-- rewrite its `jobs` row; with the bodies (~160 KB and ~490 KB for 1000 transactions) out of
-- that row, those rewrites stay small and each body is written once. `jobs.request` keeps the
-- method, URL and idempotency key. Rows written before this keep their bodies in
-- `jobs.request` and `jobs.response_body`, and are read as before.
CREATE TABLE job_request_bodies (
    job_id TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id),
    body   TEXT NOT NULL
);
CREATE TABLE job_response_bodies (
    job_id TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id),
    body   TEXT NOT NULL
);
