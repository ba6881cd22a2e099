-- The platform organisation a feed connection to delete lives in (Xero's `Xero-tenant-id`),
-- recorded when the deletion is queued: after the customer consents for another Xero
-- organisation, the connection's tenant is the new one, while the old organisation's feed
-- connections are still to be deleted there (issue 16). NULL on rows queued before: the
-- connection's tenant when the deletion is sent, as it was then.
ALTER TABLE live_feed_deletions ADD COLUMN tenant_id TEXT;
