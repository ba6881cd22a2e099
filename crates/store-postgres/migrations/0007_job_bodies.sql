-- A job's request and response bodies in tables of their own. Claiming and finishing a job
-- rewrite its `jobs` row; with the bodies (~160 KB and ~490 KB for 1000 transactions) out of
-- that row, those rewrites stay small and each body is written once. `jobs.request` keeps the
-- method, URL and idempotency key. Rows written before this keep their bodies in
-- `jobs.request` and `jobs.response_body`, and are read as before.
CREATE TABLE job_request_bodies (
    job_id UUID PRIMARY KEY REFERENCES jobs (id),
    body   TEXT NOT NULL
);
CREATE TABLE job_response_bodies (
    job_id UUID PRIMARY KEY REFERENCES jobs (id),
    body   TEXT NOT NULL
);
-- The bodies are large JSON: compress them with LZ4, several times cheaper in CPU than the
-- default pglz for about the same size, where the server is built with it (PostgreSQL 14+,
-- --with-lz4, as the common packages are). Elsewhere they keep the default.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE job_request_bodies ALTER COLUMN body SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE job_response_bodies ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'job bodies keep the default compression: %', SQLERRM;
END
$$;
