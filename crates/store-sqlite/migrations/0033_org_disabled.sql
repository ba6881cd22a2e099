-- Disabling an organisation (issue 18, `bankfeeds org disable`): while set, its API credential,
-- OFX sign-ons and console sign-ins are refused; its data and queued work are kept, and
-- `org enable` clears it. Microseconds since the epoch, as every SQLite timestamp here.
ALTER TABLE orgs ADD COLUMN disabled_at INTEGER;
