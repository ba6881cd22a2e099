"""Account mapping: what a connection's accounts map to, before and after the link, and mapping
an account into the linked platform company (Xero maps by API; QuickBooks maps in the platform)."""

from helpers import check, day, enum_value, eq, expect_error


def test_mappings_are_pending_and_creating_one_is_400_until_the_connection_is_linked(codat, xero_unlinked):
    m = xero_unlinked
    before = codat.sdk.account_mapping.get(request=m.where)
    eq([(x.source_account_id, str(x.status)) for x in before], [("cur-1", "pending"), ("sav-1", "pending")],
       "mappings before")
    expect_error(lambda: codat.sdk.account_mapping.create(request={**m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1"}}), 400, "CONNECTION_NOT_LINKED")


def test_map_the_second_account_into_the_linked_xero_company(codat, xero_linked):
    m, sdk = xero_linked, codat.sdk
    mappings = {x.source_account_id: x for x in sdk.account_mapping.get(request=m.where)}
    eq(str(mappings["cur-1"].status), "connected", "the linked one")
    check(mappings["cur-1"].target_account_id, "a connected mapping names its target")
    options = mappings["sav-1"].target_account_options or []
    eq(len(options), 1, "one target option")
    expect_error(lambda: sdk.account_mapping.create(request={**m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1", "target_account_id": "elsewhere"}}), 400, "UNKNOWN_TARGET_ACCOUNT")
    mapped = sdk.account_mapping.create(request={**m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1", "target_account_id": options[0].id, "feed_start_date": day(20)}})
    eq((mapped.source_account_id, str(mapped.status)), ("sav-1", "connected"), "mapped")
    statuses = {a.id: enum_value(a.status) for a in sdk.source_accounts.list(request=m.where)}
    eq(statuses, {"cur-1": "connected", "sav-1": "connected"}, "both connected")
    s, feeds = codat.sandbox("GET", f"/sandbox/xero/api/companies/{m.books}/feeds")
    eq(len(feeds["bank_feed_accounts"]), 2, "two feeds in the Xero company")


def test_quickbooks_connections_map_in_the_platform_not_by_api(codat):
    qbo = codat.new_company("Mapping QBO Co")
    expect_error(lambda: codat.sdk.account_mapping.create(request={**qbo.where, "bank_feed_account_mapping": {
        "source_account_id": "x"}}), 400, "MAPPING_IN_PLATFORM")
