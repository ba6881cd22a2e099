-- What each job does, so the worker picks its runner by kind instead of by the request's URL.
-- Jobs accepted before this column existed are typed from their URL once, here.
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'transaction_batch';
UPDATE jobs SET kind = 'codat_push' WHERE (request::jsonb ->> 'url') LIKE '/codat/%';
