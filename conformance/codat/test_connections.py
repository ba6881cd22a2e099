"""Connections: create (one per platform key), list, get, QuickBooks' fresh link OTPs, unlink,
delete. Each test starts from Bank of Dave with four fresh connections in an organisation of
its own."""

from codat_bankfeeds.models import shared

from helpers import check, eq, expect_error, unknown_id


def test_create_makes_pending_auth_bank_feed_connections_for_hcws_gbol_olpr_akxx(three_companies):
    codat, dave = three_companies.codat, three_companies.dave
    conns = codat.create_connections(dave)  # checks each: PendingAuth BankFeed, its key, linkUrl
    eq(len(set(conns.values())), 4, "distinct connection ids")
    company = codat.sdk.companies.get(request={"company_id": dave})
    eq(sorted(c.id for c in company.data_connections), sorted(conns.values()), "company.dataConnections")


def test_create_is_400_for_unknown_or_missing_platform_key_and_404_for_unknown_company(dave_with_connections):
    sdk, dave = dave_with_connections.codat.sdk, dave_with_connections.dave
    # create-connection does not document 400: the SDK raises SDKError (the body is the same).
    for body in ({"platform_key": "zzzz"}, {"platform_key": "HCWS"}, {}):
        expect_error(lambda: sdk.connections.create(request={"company_id": dave, "request_body": body}),
                     400, "UNKNOWN_PLATFORM_KEY", item="platformKey", undocumented=True)
    expect_error(lambda: sdk.connections.create(request={"company_id": dave}), 400, undocumented=True)
    expect_error(lambda: sdk.connections.create(request={
        "company_id": unknown_id(), "request_body": {"platform_key": "hcws"}}), 404, "COMPANY_NOT_FOUND")
    eq(sdk.connections.list(request={"company_id": dave}).total_results, 4, "nothing was created")


def test_list_pages_queries_and_orders(dave_with_connections):
    t = dave_with_connections
    sdk, dave, conns = t.codat.sdk, t.dave, t.conns
    everything = sdk.connections.list(request={"company_id": dave})
    check(isinstance(everything, shared.Connections), f"not Connections: {type(everything)}")
    eq(sorted(c.id for c in everything.results), sorted(conns.values()), "all four")
    eq((everything.page_number, everything.page_size, everything.total_results), (1, 100, 4), "paging")
    path = f"/codat/companies/{dave}/connections"
    eq(everything.links.self_.href, path, "_links.self")
    check(everything.links.current.href.startswith(path + "?"), f"_links.current {everything.links.current.href}")
    check(everything.links.next is None and everything.links.previous is None, "no next/previous")
    xero = sdk.connections.list(request={"company_id": dave, "query": "integrationKey=gbol"})
    eq([c.id for c in xero.results], [conns["gbol"]], "query integrationKey=gbol")
    by_key = sdk.connections.list(request={"company_id": dave, "order_by": "-integrationKey"})
    eq([c.integration_key for c in by_key.results], ["olpr", "hcws", "gbol", "akxx"], "orderBy -integrationKey")
    p2 = sdk.connections.list(request={
        "company_id": dave, "page": 2, "page_size": 3, "order_by": "integrationKey"})
    eq(([c.integration_key for c in p2.results], p2.total_results), (["olpr"], 4), "page 2 of 3")
    check(p2.links.previous is not None and p2.links.next is None, "page 2's links")
    expect_error(lambda: sdk.connections.list(request={"company_id": dave, "query": "status=="}),
                 400, "MALFORMED_QUERY")
    expect_error(lambda: sdk.connections.list(request={"company_id": unknown_id()}),
                 404, "COMPANY_NOT_FOUND")


def test_get_returns_the_connection_and_404_for_unknown_ids_and_across_companies(dave_with_connections):
    t = dave_with_connections
    codat, dave, conns = t.codat, t.dave, t.conns
    sdk = codat.sdk
    got = sdk.connections.get(request={"company_id": dave, "connection_id": conns["hcws"]})
    codat.check_connection(got, "hcws")
    for cid in (unknown_id(), "not-a-uuid"):
        expect_error(lambda: sdk.connections.get(request={"company_id": dave, "connection_id": cid}),
                     404, "CONNECTION_NOT_FOUND")
    acme = next(c.id for c in sdk.companies.list(request={"query": "name=Acme Ltd"}).results)
    expect_error(lambda: sdk.connections.get(request={"company_id": acme, "connection_id": conns["hcws"]}),
                 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: sdk.connections.get(request={
        "company_id": unknown_id(), "connection_id": conns["hcws"]}), 404, "COMPANY_NOT_FOUND")


def test_quickbooks_link_url_carries_a_fresh_otp_on_each_get_and_list(dave_with_connections):
    t = dave_with_connections
    codat, dave, conns = t.codat, t.dave, t.conns
    sdk = codat.sdk
    target = {"company_id": dave, "connection_id": conns["hcws"]}
    first = sdk.connections.get(request=target)
    second = sdk.connections.get(request=target)
    listed = next(c for c in sdk.connections.list(request={"company_id": dave}).results
                  if c.id == conns["hcws"])
    for c in (first, second, listed):
        codat.check_connection(c, "hcws")
    eq(len({first.link_url, second.link_url, listed.link_url}), 3, "three reads, three OTPs")
    xero = sdk.connections.get(request={"company_id": dave, "connection_id": conns["gbol"]})
    check("otp=" not in xero.link_url, f"only QuickBooks' linkUrl has an OTP: {xero.link_url}")


def test_unlink_sets_unlinked_and_refuses_other_statuses_400_and_unknown_404(dave_with_connections):
    t = dave_with_connections
    codat, dave, conns = t.codat, t.dave, t.conns
    sdk = codat.sdk
    target = {"company_id": dave, "connection_id": conns["gbol"]}
    # unlink-connection does not document 400: the SDK raises SDKError (the body is the same).
    for bad in ("Linked", "PendingAuth", "Deauthorized"):
        expect_error(lambda: sdk.connections.unlink(request={**target, "request_body": {"status": bad}}),
                     400, "INVALID_STATUS", undocumented=True)
    done = sdk.connections.unlink(request={**target, "request_body": {"status": "Unlinked"}})
    codat.check_connection(done, "gbol", status="Unlinked")
    codat.check_connection(sdk.connections.get(request=target), "gbol", status="Unlinked")
    expect_error(lambda: sdk.connections.unlink(request={
        "company_id": dave, "connection_id": unknown_id(), "request_body": {"status": "Unlinked"}}),
        404, "CONNECTION_NOT_FOUND")
    unlinked = sdk.connections.list(request={"company_id": dave, "query": "status=Unlinked"})
    eq([c.id for c in unlinked.results], [conns["gbol"]], "query status=Unlinked")


def test_delete_is_200_with_no_body_then_404_from_both_doors(dave_with_connections):
    t = dave_with_connections
    codat, dave, conns = t.codat, t.dave, t.conns
    sdk = codat.sdk
    target = {"company_id": dave, "connection_id": conns["akxx"]}
    eq(sdk.connections.delete(request=target), None, "delete returns")
    expect_error(lambda: sdk.connections.get(request=target), 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: sdk.connections.delete(request=target), 404, "CONNECTION_NOT_FOUND")
    check(conns["akxx"] not in codat.rutter_connection_ids(), "still listed by the Rutter-shaped door")
    eq(sdk.connections.list(request={"company_id": dave}).total_results, 3, "three left")
