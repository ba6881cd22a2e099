-- The OFX Direct Connect configuration names the FI's own FID and routing number (issue 13):
-- what Quicken and GnuCash users type in, and the BANKID of accounts that carry none.
ALTER TABLE fi_configs ADD COLUMN ofx_fid TEXT;
ALTER TABLE fi_configs ADD COLUMN ofx_bank_id TEXT;
