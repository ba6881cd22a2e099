-- Which hub instance holds a job's lease, so an instance that restarts after a crash frees what
-- it held at once instead of leaving those accounts stalled until the leases expire.
ALTER TABLE jobs ADD COLUMN locked_by TEXT;
