-- A job's transactions, for `GET /versioned/jobs/:id` to say when the platform took them.
CREATE INDEX transactions_by_job ON transactions (job_id);
