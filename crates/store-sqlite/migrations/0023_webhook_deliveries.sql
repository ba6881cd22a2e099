-- Webhook delivery (issue 15).
--
-- Each endpoint keeps its own place in the events feed (`cursor_tx`, `cursor_seq`; NULL until
-- the worker first sets it to the feed's head): the delivery worker fans events out from there,
-- so the transactions that write events never do it. `failing_since` starts the failure streak
-- that disables an endpoint.
ALTER TABLE webhook_endpoints ADD COLUMN cursor_tx INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN cursor_seq INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN failing_since INTEGER;

-- One row per (endpoint, event) to send: `pending` until `delivered` or `failed` (the retry
-- schedule spent). Sent one at a time per endpoint, in `seq` order.
CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    status          TEXT NOT NULL,
    tries           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    locked_by       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_holder ON webhook_deliveries (locked_by)
    WHERE status = 'pending';

-- One row per try: what the receiver answered (status, first 1 KiB) or why there was no answer.
CREATE TABLE webhook_attempts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    delivery_seq INTEGER NOT NULL,
    event_seq    INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    status_code  INTEGER,
    latency_ms   INTEGER NOT NULL,
    response     TEXT NOT NULL,
    error        TEXT,
    outcome      TEXT NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, seq);
