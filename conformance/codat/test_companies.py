"""Companies: create, list (paging, tags, query, orderBy), get, replace, update, delete, and the
company access token. Each test that counts companies has an organisation of its own."""

import urllib.request
import uuid

from codat_bankfeeds.models import shared

from helpers import check, eq, expect_error, unknown_id


def test_create_returns_company_and_drops_characters_codat_drops(fresh_codat):
    c = fresh_codat.create_three_companies()
    eq(c.description, "Early access", "description")
    eq(c.tags, {"region": "uk"}, "tags")
    eq(c.data_connections, [], "dataConnections")


def test_list_pages_by_name_with_paging_fields_and_links(three_companies):
    sdk = three_companies.codat.sdk
    p1 = sdk.companies.list(request={"page": 1, "page_size": 2, "order_by": "name"})
    check(isinstance(p1, shared.Companies), f"not Companies: {type(p1)}")
    eq([c.name for c in p1.results], ["Acme Ltd", "Bank of Dave"], "page 1 by name")
    eq((p1.page_number, p1.page_size, p1.total_results), (1, 2, 3), "page 1 paging")
    eq(p1.links.self_.href, "/codat/companies", "_links.self")
    check(p1.links.current.href.startswith("/codat/companies?page=1&pageSize=2"), f"_links.current {p1.links.current.href}")
    check(p1.links.next and "page=2" in p1.links.next.href, f"_links.next {p1.links.next}")
    check(p1.links.previous is None, f"_links.previous on page 1: {p1.links.previous}")
    p2 = sdk.companies.list(request={"page": 2, "page_size": 2, "order_by": "name"})
    eq([c.name for c in p2.results], ["Elaborate Events, Inc"], "page 2 by name")
    check(p2.links.next is None, f"_links.next on the last page: {p2.links.next}")
    check(p2.links.previous and "page=1" in p2.links.previous.href, f"_links.previous {p2.links.previous}")
    desc = sdk.companies.list(request={"order_by": "-name"})
    eq([c.name for c in desc.results], ["Elaborate Events, Inc", "Bank of Dave", "Acme Ltd"], "-name")
    eq((desc.page_number, desc.page_size), (1, 100), "the SDK's default paging")


def test_list_filters_by_tags_and_query(three_companies):
    sdk = three_companies.codat.sdk
    uk = sdk.companies.list(request={"tags": "region=uk", "order_by": "name"})
    eq([c.name for c in uk.results], ["Acme Ltd", "Bank of Dave"], "tags region=uk")
    eq(uk.total_results, 2, "totalResults counts after the filter")
    check("tags=region%3Duk" in uk.links.current.href, f"_links.current keeps tags: {uk.links.current.href}")
    q = sdk.companies.list(request={"query": "name~events"})
    eq([c.name for c in q.results], ["Elaborate Events, Inc"], "query name~events")
    both = sdk.companies.list(request={"query": "name=Acme Ltd || name=Bank of Dave", "order_by": "name"})
    eq([c.name for c in both.results], ["Acme Ltd", "Bank of Dave"], "query with ||")


def test_get_then_replace_clears_absent_fields_and_update_changes_only_what_is_sent(three_companies):
    codat, dave = three_companies.codat, three_companies.dave
    got = codat.sdk.companies.get(request={"company_id": dave})
    codat.check_company(got, "Bank of Dave")
    eq(got.id, dave, "id")
    replaced = codat.sdk.companies.replace(request={
        "company_id": dave, "company_request_body": {"name": "Dave's Bank"},
    })
    codat.check_company(replaced, "Dave's Bank")
    eq((replaced.description, replaced.tags), (None, {}), "replace cleared description and tags")
    patched = codat.sdk.companies.update(request={
        "company_id": dave, "company_update_request": {"description": "VIP", "tags": {"tier": "gold"}},
    })
    codat.check_company(patched, "Dave's Bank")
    eq((patched.description, patched.tags), ("VIP", {"tier": "gold"}), "update changed what was sent")
    renamed = codat.sdk.companies.update(request={
        "company_id": dave, "company_update_request": {"name": "Bank of Dave"},
    })
    eq((renamed.name, renamed.description), ("Bank of Dave", "VIP"), "update kept what was not sent")


def test_unknown_or_malformed_company_id_is_404_company_not_found(codat):
    sdk = codat.sdk
    unknown = unknown_id()
    for cid in (unknown, "not-a-uuid"):
        expect_error(lambda: sdk.companies.get(request={"company_id": cid}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: sdk.companies.replace(request={
        "company_id": unknown, "company_request_body": {"name": "X"}}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: sdk.companies.update(request={
        "company_id": unknown, "company_update_request": {"name": "X"}}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: sdk.companies.delete(request={"company_id": unknown}), 404, "COMPANY_NOT_FOUND")


def test_invalid_bodies_are_400_and_create_nothing(three_companies):
    """Missing name, invalid name, a tag value over 100 characters, no body at all."""
    sdk, dave = three_companies.codat.sdk, three_companies.dave
    # The SDK's model requires `name`, so a body without one is built past its validation.
    nameless = shared.CompanyRequestBody.model_construct(description="no name")
    expect_error(lambda: sdk.companies.create(request=nameless), 400, "MISSING_FIELD", item="name")
    # replace and update do not document 400: the SDK raises SDKError (the body is the same).
    expect_error(lambda: sdk.companies.replace(request={
        "company_id": dave, "company_request_body": nameless}), 400, "MISSING_FIELD", item="name",
        undocumented=True)
    expect_error(lambda: sdk.companies.create(request={"name": "<>"}), 400, "INVALID_FIELD_VALUE", item="name")
    expect_error(lambda: sdk.companies.update(request={
        "company_id": dave, "company_update_request": {"name": "<>"}}), 400, "INVALID_FIELD_VALUE", item="name",
        undocumented=True)
    expect_error(lambda: sdk.companies.create(request={"name": "A", "tags": {"k": "v" * 101}}),
                 400, "INVALID_FIELD_VALUE")
    expect_error(lambda: sdk.companies.create(), 400)
    eq(sdk.companies.list().total_results, 3, "nothing was created by the refusals")


def test_delete_is_204_and_takes_the_companys_connections_from_both_doors(dave_with_connections):
    t = dave_with_connections
    sdk, dave = t.codat.sdk, t.dave
    eq(sdk.companies.delete(request={"company_id": dave}), None, "delete returns")
    expect_error(lambda: sdk.companies.get(request={"company_id": dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: sdk.companies.delete(request={"company_id": dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: sdk.connections.list(request={"company_id": dave}), 404, "COMPANY_NOT_FOUND")
    left = set(t.conns.values()) & t.codat.rutter_connection_ids()
    check(not left, f"the Rutter-shaped door still lists {left}")
    eq(sdk.companies.list().total_results, 2, "two companies left")


def test_access_token_is_a_one_hour_bearer_token_opening_the_link_page_with_working_links(codat):
    sdk = codat.sdk
    c = sdk.companies.create(request={"name": "Token Co"})
    sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "hcws"}})
    t = sdk.companies.get_access_token(request={"company_id": c.id})
    eq((t.expires_in, t.token_type), (3600, "Bearer"), "expiresIn, tokenType")
    check(t.access_token.startswith("bfct_"), f"accessToken {t.access_token[:5]}…")
    with urllib.request.urlopen(f"{c.redirect}?access_token={t.access_token}", timeout=10) as r:
        page = r.read().decode()
    check("/link/codat/start?otp=bfotp_" in page, "the page carries a working QuickBooks link")
    check(t.access_token not in page, "the token is not echoed")
    expect_error(lambda: sdk.companies.get_access_token(request={"company_id": str(uuid.uuid4())}), 404, "COMPANY_NOT_FOUND")
