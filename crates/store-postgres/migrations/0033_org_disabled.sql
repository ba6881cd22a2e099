-- Disabling an organisation (issue 18, `bankfeeds org disable`): while set, its API credential,
-- OFX sign-ons and console sign-ins are refused; its data and queued work are kept, and
-- `org enable` clears it.
ALTER TABLE orgs ADD COLUMN disabled_at TIMESTAMPTZ;
