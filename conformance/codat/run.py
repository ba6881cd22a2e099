#!/usr/bin/env python3
"""Codat conformance: Codat's own Python SDK (codat-bankfeeds, pinned in requirements.txt)
against the hub's Codat door (issue 5).

    python conformance/codat/run.py [path/to/bankfeeds]     (or BANKFEEDS_BIN=path/to/bankfeeds)

The script starts its own hub (`bankfeeds serve`) on a free loopback port with a SQLite
database in a temporary directory (no BANKFEEDS_* setting from the caller's shell reaches it),
creates an organisation through the CLI, and drives the real SDK with `server_url=<hub>/codat`.
Raw HTTP is used only where the SDK has no operation (the Rutter-shaped door, the hub's health,
and the QuickBooks sandbox's JSON interface: the platform side that links with generated
credentials and ingests the pushed transactions).
Whatever happens, the hub is stopped and the directory removed.

Cases are small functions registered in order with @case("name"); each prints `ok  <name>` or
`FAIL <name>` with the reason, and later cases may use what earlier ones left in `ctx`. Every
SDK call goes through a recorder, so the summary lists the operations of issue 5's groups that no
case has called yet (the gap, reported but not a failure). A new slice adds its cases below.

Exit code 0 when every case passed, 1 otherwise (with the hub's log tail).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from codat_bankfeeds import CodatBankFeeds
from codat_bankfeeds.models import errors, shared
from codat_bankfeeds.utils import RetryConfig

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Issue 5's operations: what "every implemented operation" grows to. Anything here no case has
# called is listed as not yet covered.
OPERATIONS = {
    "companies": ["create", "list", "get", "replace", "update", "delete", "get_access_token"],
    "connections": ["create", "list", "get", "unlink", "delete"],
    "source_accounts": [
        "create", "create_batch", "list", "update", "delete",
        "generate_credentials", "delete_credentials", "generate_otp",
    ],
    "account_mapping": ["get", "create"],
    "transactions": ["create", "get_create_operation", "list_create_operations", "get_create_model"],
    "company_information": ["get"],
}


# ---------------------------------------------------------------- checks

class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def enum_value(v):
    """An SDK enum member or a plain string, as its wire value."""
    return getattr(v, "value", v)


HEX32 = re.compile(r"^[0-9a-f]{32}$")


def expect_error(call, status, code=None, item=None, undocumented=False):
    """Runs `call`, which must fail with this HTTP status and a Codat ErrorMessage body: the same
    `statusCode`, a 32-hex correlationId, and (when given) our `errorCode` and a validation error
    on `item`. Returns the exception.

    The SDK raises errors.ErrorMessage only for the statuses an operation documents as
    ErrorMessage; any other (e.g. 400 on companies.replace/update, connections.create/unlink,
    which Codat's spec does not list) is an errors.SDKError with the same body. Pass
    `undocumented=True` for those."""
    want = errors.SDKError if undocumented else errors.ErrorMessage
    label = f"{want.__name__} {status} {code or ''}".strip()
    try:
        result = call()
    except errors.CodatBankFeedsError as e:
        check(type(e) is want, f"want {label}, got {type(e).__name__} {e.status_code}: {e.body}")
        eq(e.status_code, status, "HTTP status")
        check(e.headers.get("content-type", "").startswith("application/json"), f"content-type: {dict(e.headers)}")
        # The body as the SDK's own ErrorMessage model reads it (for an SDKError, by hand).
        data = e.data if isinstance(e, errors.ErrorMessage) else errors.ErrorMessageData.model_validate_json(e.body)
        eq(data.status_code, status, "ErrorMessage.statusCode")
        check(data.error, f"ErrorMessage.error is empty: {e.body}")
        check(HEX32.match(data.correlation_id or ""), f"correlationId: {data.correlation_id!r}")
        check(data.can_be_retried in ("True", "False", "Unknown"), f"canBeRetried: {data.can_be_retried!r}")
        check(isinstance(data.detailed_error_code, int), f"detailedErrorCode: {e.body}")
        if code is not None:
            eq(json.loads(e.body).get("errorCode"), code, "errorCode")
        if item is not None:
            items = [v.item_id for v in (data.validation.errors or [])] if data.validation else []
            check(item in items, f"validation.errors has no item {item!r}: {e.body}")
        return e
    raise Failure(f"want {label}, the call returned {result!r}")


# ---------------------------------------------------------------- the SDK, recorded

CALLED: set[str] = set()


class Recorded:
    """One SDK method group whose calls are noted in CALLED as `group.method`."""

    def __init__(self, name, group):
        self._name, self._group = name, group

    def __getattr__(self, method):
        fn = getattr(self._group, method)
        if not callable(fn):
            return fn

        def call(*args, **kwargs):
            CALLED.add(f"{self._name}.{method}")
            return fn(*args, **kwargs)

        return call


class Sdk:
    def __init__(self, base, auth_header):
        self.raw = CodatBankFeeds(
            server_url=f"{base}/codat",
            security=shared.Security(auth_header=auth_header),
            retry_config=RetryConfig("none"),
        )

    def __getattr__(self, group):
        return Recorded(group, getattr(self.raw, group))


def basic(client_id, client_secret):
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def http(ctx, method, path, body=None, creds=None):
    """Raw HTTP, only where the SDK has no operation. Returns (status, JSON or None)."""
    creds = creds or ctx.org
    req = urllib.request.Request(f"{ctx.base}{path}", method=method)
    req.add_header("Authorization", basic(creds["client_id"], creds["client_secret"]))
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, (json.loads(text) if text else None)


# ---------------------------------------------------------------- the cases

CASES = []


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn
    return register


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_company(c, name):
    check(isinstance(c, shared.Company), f"not a Company: {type(c)}")
    eq(c.name, name, "company name")
    check(UUID.match(c.id), f"company id {c.id!r}")
    check(c.redirect.startswith(ctx.base + "/"), f"redirect {c.redirect!r}")
    check(c.created and c.created.endswith("Z"), f"created {c.created!r}")
    eq(c.products, ["bankFeeds"], "products")


PLATFORMS = {
    "hcws": "QuickBooks Online Bank Feeds",
    "gbol": None,  # names as the hub gives them; only QuickBooks' is pinned here
    "olpr": None,
    "akxx": None,
}


QBO_LINK = re.compile(r"^http://[^/]+/link/codat/start\?otp=bfotp_[A-Za-z0-9_-]+$")


def check_connection(c, key, status="PendingAuth"):
    check(isinstance(c, shared.Connection), f"not a Connection: {type(c)}")
    check(UUID.match(c.id), f"connection id {c.id!r}")
    eq(c.integration_key, key, "integrationKey")
    check(UUID.match(c.integration_id), f"integrationId {c.integration_id!r}")
    check(UUID.match(c.source_id), f"sourceId {c.source_id!r}")
    eq(enum_value(c.source_type), "BankFeed", "sourceType")
    eq(enum_value(c.status), status, "status")
    check(c.platform_name, "platformName is empty")
    if PLATFORMS.get(key):
        eq(c.platform_name, PLATFORMS[key], "platformName")
    if key == "hcws" and status != "Unlinked":
        # QuickBooks: Codat's Link page with a one-hour OTP, fresh on each read.
        check(QBO_LINK.match(c.link_url or "") and c.link_url.startswith(f"{ctx.base}/link/codat/start?otp="),
              f"linkUrl {c.link_url!r}")
    else:
        eq(c.link_url, f"{ctx.base}/link/connections/{c.id}", "linkUrl")
    check(c.created and c.created.endswith("Z"), f"created {c.created!r}")


# --- companies

@case("companies.create: 200 Company, characters Codat drops are dropped")
def _():
    c = ctx.sdk.companies.create(request={
        "name": "Bank of <Dave>", "description": "Early access", "tags": {"region": "uk"},
    })
    check_company(c, "Bank of Dave")
    eq(c.description, "Early access", "description")
    eq(c.tags, {"region": "uk"}, "tags")
    eq(c.data_connections, [], "dataConnections")
    ctx.dave = c.id
    for name, region in [("Elaborate Events, Inc", "us"), ("Acme Ltd", "uk")]:
        check_company(ctx.sdk.companies.create(request={"name": name, "tags": {"region": region}}), name)


@case("companies.list: paging fields and _links")
def _():
    p1 = ctx.sdk.companies.list(request={"page": 1, "page_size": 2, "order_by": "name"})
    check(isinstance(p1, shared.Companies), f"not Companies: {type(p1)}")
    eq([c.name for c in p1.results], ["Acme Ltd", "Bank of Dave"], "page 1 by name")
    eq((p1.page_number, p1.page_size, p1.total_results), (1, 2, 3), "page 1 paging")
    eq(p1.links.self_.href, "/codat/companies", "_links.self")
    check(p1.links.current.href.startswith("/codat/companies?page=1&pageSize=2"), f"_links.current {p1.links.current.href}")
    check(p1.links.next and "page=2" in p1.links.next.href, f"_links.next {p1.links.next}")
    check(p1.links.previous is None, f"_links.previous on page 1: {p1.links.previous}")
    p2 = ctx.sdk.companies.list(request={"page": 2, "page_size": 2, "order_by": "name"})
    eq([c.name for c in p2.results], ["Elaborate Events, Inc"], "page 2 by name")
    check(p2.links.next is None, f"_links.next on the last page: {p2.links.next}")
    check(p2.links.previous and "page=1" in p2.links.previous.href, f"_links.previous {p2.links.previous}")
    desc = ctx.sdk.companies.list(request={"order_by": "-name"})
    eq([c.name for c in desc.results], ["Elaborate Events, Inc", "Bank of Dave", "Acme Ltd"], "-name")
    eq((desc.page_number, desc.page_size), (1, 100), "the SDK's default paging")


@case("companies.list: tags and query filters")
def _():
    uk = ctx.sdk.companies.list(request={"tags": "region=uk", "order_by": "name"})
    eq([c.name for c in uk.results], ["Acme Ltd", "Bank of Dave"], "tags region=uk")
    eq(uk.total_results, 2, "totalResults counts after the filter")
    check("tags=region%3Duk" in uk.links.current.href, f"_links.current keeps tags: {uk.links.current.href}")
    q = ctx.sdk.companies.list(request={"query": "name~events"})
    eq([c.name for c in q.results], ["Elaborate Events, Inc"], "query name~events")
    both = ctx.sdk.companies.list(request={"query": "name=Acme Ltd || name=Bank of Dave", "order_by": "name"})
    eq([c.name for c in both.results], ["Acme Ltd", "Bank of Dave"], "query with ||")


@case("companies.get, replace (PUT clears absent fields), update (PATCH)")
def _():
    got = ctx.sdk.companies.get(request={"company_id": ctx.dave})
    check_company(got, "Bank of Dave")
    eq(got.id, ctx.dave, "id")
    replaced = ctx.sdk.companies.replace(request={
        "company_id": ctx.dave, "company_request_body": {"name": "Dave's Bank"},
    })
    check_company(replaced, "Dave's Bank")
    eq((replaced.description, replaced.tags), (None, {}), "replace cleared description and tags")
    patched = ctx.sdk.companies.update(request={
        "company_id": ctx.dave, "company_update_request": {"description": "VIP", "tags": {"tier": "gold"}},
    })
    check_company(patched, "Dave's Bank")
    eq((patched.description, patched.tags), ("VIP", {"tier": "gold"}), "update changed what was sent")
    renamed = ctx.sdk.companies.update(request={
        "company_id": ctx.dave, "company_update_request": {"name": "Bank of Dave"},
    })
    eq((renamed.name, renamed.description), ("Bank of Dave", "VIP"), "update kept what was not sent")


@case("companies: 404 COMPANY_NOT_FOUND for an unknown or malformed id")
def _():
    unknown = str(uuid.uuid4())
    for cid in (unknown, "not-a-uuid"):
        expect_error(lambda: ctx.sdk.companies.get(request={"company_id": cid}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: ctx.sdk.companies.replace(request={
        "company_id": unknown, "company_request_body": {"name": "X"}}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: ctx.sdk.companies.update(request={
        "company_id": unknown, "company_update_request": {"name": "X"}}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: ctx.sdk.companies.delete(request={"company_id": unknown}), 404, "COMPANY_NOT_FOUND")


@case("companies: 400 validation (missing name, invalid name, long tag, empty body)")
def _():
    # The SDK's model requires `name`, so a body without one is built past its validation.
    nameless = shared.CompanyRequestBody.model_construct(description="no name")
    expect_error(lambda: ctx.sdk.companies.create(request=nameless), 400, "MISSING_FIELD", item="name")
    # replace and update do not document 400: the SDK raises SDKError (the body is the same).
    expect_error(lambda: ctx.sdk.companies.replace(request={
        "company_id": ctx.dave, "company_request_body": nameless}), 400, "MISSING_FIELD", item="name",
        undocumented=True)
    expect_error(lambda: ctx.sdk.companies.create(request={"name": "<>"}), 400, "INVALID_FIELD_VALUE", item="name")
    expect_error(lambda: ctx.sdk.companies.update(request={
        "company_id": ctx.dave, "company_update_request": {"name": "<>"}}), 400, "INVALID_FIELD_VALUE", item="name",
        undocumented=True)
    expect_error(lambda: ctx.sdk.companies.create(request={"name": "A", "tags": {"k": "v" * 101}}),
                 400, "INVALID_FIELD_VALUE")
    expect_error(lambda: ctx.sdk.companies.create(), 400)
    eq(ctx.sdk.companies.list().total_results, 3, "nothing was created by the refusals")


@case("companies.list: 400 for a malformed query, tags, orderBy or paging")
def _():
    for req, code in [
        ({"query": "name==x"}, "MALFORMED_QUERY"),
        ({"query": "name="}, "MALFORMED_QUERY"),
        ({"tags": "region"}, "MALFORMED_QUERY"),
        ({"order_by": "-"}, "MALFORMED_QUERY"),
        ({"page_size": 0}, "INVALID_PAGE_SIZE"),
        ({"page_size": 5001}, "INVALID_PAGE_SIZE"),
        ({"page": 0}, "INVALID_PAGE"),
    ]:
        expect_error(lambda: ctx.sdk.companies.list(request=req), 400, code)


# --- connections

@case("connections.create: hcws, gbol, olpr, akxx are PendingAuth BankFeed connections")
def _():
    ctx.conns = {}
    for key in PLATFORMS:
        c = ctx.sdk.connections.create(request={"company_id": ctx.dave, "request_body": {"platform_key": key}})
        check_connection(c, key)
        ctx.conns[key] = c.id
    eq(len(set(ctx.conns.values())), 4, "distinct connection ids")
    company = ctx.sdk.companies.get(request={"company_id": ctx.dave})
    eq(sorted(c.id for c in company.data_connections), sorted(ctx.conns.values()), "company.dataConnections")


@case("connections.create: 400 for an unknown or missing platformKey, 404 for an unknown company")
def _():
    # create-connection does not document 400: the SDK raises SDKError (the body is the same).
    for body in ({"platform_key": "zzzz"}, {"platform_key": "HCWS"}, {}):
        expect_error(lambda: ctx.sdk.connections.create(request={"company_id": ctx.dave, "request_body": body}),
                     400, "UNKNOWN_PLATFORM_KEY", item="platformKey", undocumented=True)
    expect_error(lambda: ctx.sdk.connections.create(request={"company_id": ctx.dave}), 400, undocumented=True)
    expect_error(lambda: ctx.sdk.connections.create(request={
        "company_id": str(uuid.uuid4()), "request_body": {"platform_key": "hcws"}}), 404, "COMPANY_NOT_FOUND")
    eq(ctx.sdk.connections.list(request={"company_id": ctx.dave}).total_results, 4, "nothing was created")


@case("connections.list: paging, query, orderBy")
def _():
    everything = ctx.sdk.connections.list(request={"company_id": ctx.dave})
    check(isinstance(everything, shared.Connections), f"not Connections: {type(everything)}")
    eq(sorted(c.id for c in everything.results), sorted(ctx.conns.values()), "all four")
    eq((everything.page_number, everything.page_size, everything.total_results), (1, 100, 4), "paging")
    path = f"/codat/companies/{ctx.dave}/connections"
    eq(everything.links.self_.href, path, "_links.self")
    check(everything.links.current.href.startswith(path + "?"), f"_links.current {everything.links.current.href}")
    check(everything.links.next is None and everything.links.previous is None, "no next/previous")
    xero = ctx.sdk.connections.list(request={"company_id": ctx.dave, "query": "integrationKey=gbol"})
    eq([c.id for c in xero.results], [ctx.conns["gbol"]], "query integrationKey=gbol")
    by_key = ctx.sdk.connections.list(request={"company_id": ctx.dave, "order_by": "-integrationKey"})
    eq([c.integration_key for c in by_key.results], ["olpr", "hcws", "gbol", "akxx"], "orderBy -integrationKey")
    p2 = ctx.sdk.connections.list(request={
        "company_id": ctx.dave, "page": 2, "page_size": 3, "order_by": "integrationKey"})
    eq(([c.integration_key for c in p2.results], p2.total_results), (["olpr"], 4), "page 2 of 3")
    check(p2.links.previous is not None and p2.links.next is None, "page 2's links")
    expect_error(lambda: ctx.sdk.connections.list(request={"company_id": ctx.dave, "query": "status=="}),
                 400, "MALFORMED_QUERY")
    expect_error(lambda: ctx.sdk.connections.list(request={"company_id": str(uuid.uuid4())}),
                 404, "COMPANY_NOT_FOUND")


@case("connections.get: 200, and 404 CONNECTION_NOT_FOUND across companies")
def _():
    got = ctx.sdk.connections.get(request={"company_id": ctx.dave, "connection_id": ctx.conns["hcws"]})
    check_connection(got, "hcws")
    for cid in (str(uuid.uuid4()), "not-a-uuid"):
        expect_error(lambda: ctx.sdk.connections.get(request={"company_id": ctx.dave, "connection_id": cid}),
                     404, "CONNECTION_NOT_FOUND")
    acme = next(c.id for c in ctx.sdk.companies.list(request={"query": "name=Acme Ltd"}).results)
    expect_error(lambda: ctx.sdk.connections.get(request={"company_id": acme, "connection_id": ctx.conns["hcws"]}),
                 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: ctx.sdk.connections.get(request={
        "company_id": str(uuid.uuid4()), "connection_id": ctx.conns["hcws"]}), 404, "COMPANY_NOT_FOUND")


@case("connections: a QuickBooks linkUrl carries a fresh OTP on each get and list")
def _():
    target = {"company_id": ctx.dave, "connection_id": ctx.conns["hcws"]}
    first = ctx.sdk.connections.get(request=target)
    second = ctx.sdk.connections.get(request=target)
    listed = next(c for c in ctx.sdk.connections.list(request={"company_id": ctx.dave}).results
                  if c.id == ctx.conns["hcws"])
    for c in (first, second, listed):
        check_connection(c, "hcws")
    eq(len({first.link_url, second.link_url, listed.link_url}), 3, "three reads, three OTPs")
    xero = ctx.sdk.connections.get(request={"company_id": ctx.dave, "connection_id": ctx.conns["gbol"]})
    check("otp=" not in xero.link_url, f"only QuickBooks' linkUrl has an OTP: {xero.link_url}")


@case("cross-door: SDK connections are the Rutter-shaped door's connections")
def _():
    status, body = http(ctx, "GET", "/versioned/connections")
    eq(status, 200, f"GET /versioned/connections {body}")
    ids = {c["id"] for c in body["connections"]}
    missing = set(ctx.conns.values()) - ids
    check(not missing, f"the Rutter-shaped door does not list {missing}: {body}")


@case("connections.unlink: Unlinked; other statuses 400; unknown 404")
def _():
    target = {"company_id": ctx.dave, "connection_id": ctx.conns["gbol"]}
    # unlink-connection does not document 400: the SDK raises SDKError (the body is the same).
    for bad in ("Linked", "PendingAuth", "Deauthorized"):
        expect_error(lambda: ctx.sdk.connections.unlink(request={**target, "request_body": {"status": bad}}),
                     400, "INVALID_STATUS", undocumented=True)
    done = ctx.sdk.connections.unlink(request={**target, "request_body": {"status": "Unlinked"}})
    check_connection(done, "gbol", status="Unlinked")
    check_connection(ctx.sdk.connections.get(request=target), "gbol", status="Unlinked")
    expect_error(lambda: ctx.sdk.connections.unlink(request={
        "company_id": ctx.dave, "connection_id": str(uuid.uuid4()), "request_body": {"status": "Unlinked"}}),
        404, "CONNECTION_NOT_FOUND")
    unlinked = ctx.sdk.connections.list(request={"company_id": ctx.dave, "query": "status=Unlinked"})
    eq([c.id for c in unlinked.results], [ctx.conns["gbol"]], "query status=Unlinked")


@case("connections.delete: 200 with no body, then 404 from both doors")
def _():
    target = {"company_id": ctx.dave, "connection_id": ctx.conns["akxx"]}
    eq(ctx.sdk.connections.delete(request=target), None, "delete returns")
    expect_error(lambda: ctx.sdk.connections.get(request=target), 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: ctx.sdk.connections.delete(request=target), 404, "CONNECTION_NOT_FOUND")
    status, body = http(ctx, "GET", "/versioned/connections")
    check(ctx.conns["akxx"] not in {c["id"] for c in body["connections"]}, "still listed by the Rutter-shaped door")
    del ctx.conns["akxx"]
    eq(ctx.sdk.connections.list(request={"company_id": ctx.dave}).total_results, 3, "three left")


# --- authentication and isolation

@case("401 for a wrong secret, an unknown client, a missing scheme")
def _():
    org = ctx.org
    bad = [
        basic(org["client_id"], org["client_secret"] + "x"),
        basic("bfci_" + uuid.uuid4().hex, org["client_secret"]),
        base64.b64encode(f"{org['client_id']}:{org['client_secret']}".encode()).decode(),
    ]
    for header in bad:
        wrong = Sdk(ctx.base, header)
        expect_error(lambda: wrong.companies.list(), 401)
        expect_error(lambda: wrong.companies.get(request={"company_id": ctx.dave}), 401)
        expect_error(lambda: wrong.connections.get(request={
            "company_id": ctx.dave, "connection_id": ctx.conns["hcws"]}), 401)
    # Each refused POST on a client of its own: the hub answers 401 before reading the body and,
    # when the body arrives after that answer, closes the keep-alive connection without
    # `Connection: close`; the SDK's next POST on the pooled connection then fails with
    # RemoteDisconnected (not retried: POST). Reported; not what this case is about.
    expect_error(lambda: Sdk(ctx.base, bad[0]).companies.create(request={"name": "Intruder"}),
                 401, "INVALID_CREDENTIALS")
    expect_error(lambda: Sdk(ctx.base, bad[0]).connections.create(request={
        "company_id": ctx.dave, "request_body": {"platform_key": "hcws"}}), 401, "INVALID_CREDENTIALS")
    eq(ctx.sdk.companies.list(request={"query": "name=Intruder"}).total_results, 0, "nothing created")


@case("another organisation sees none of it (404, empty lists)")
def _():
    other = create_org(ctx, "Other Bank")
    theirs = Sdk(ctx.base, basic(other["client_id"], other["client_secret"]))
    eq(theirs.companies.list().total_results, 0, "their companies")
    expect_error(lambda: theirs.companies.get(request={"company_id": ctx.dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: theirs.companies.delete(request={"company_id": ctx.dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: theirs.connections.get(request={
        "company_id": ctx.dave, "connection_id": ctx.conns["hcws"]}), 404, "COMPANY_NOT_FOUND")


# --- last: deleting the company

@case("companies.delete: 204, the company and its connections are gone")
def _():
    eq(ctx.sdk.companies.delete(request={"company_id": ctx.dave}), None, "delete returns")
    expect_error(lambda: ctx.sdk.companies.get(request={"company_id": ctx.dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: ctx.sdk.companies.delete(request={"company_id": ctx.dave}), 404, "COMPANY_NOT_FOUND")
    expect_error(lambda: ctx.sdk.connections.list(request={"company_id": ctx.dave}), 404, "COMPANY_NOT_FOUND")
    status, body = http(ctx, "GET", "/versioned/connections")
    left = set(ctx.conns.values()) & {c["id"] for c in body["connections"]}
    check(not left, f"the Rutter-shaped door still lists {left}")
    eq(ctx.sdk.companies.list().total_results, 2, "two companies left")


# ---------------------------------------------------------------- source accounts, pushes, QuickBooks

def D(x):
    """An SDK number (Decimal or float) as an exact decimal, by its shortest text."""
    return Decimal(str(x))


def day(n, at="12:00:00", base=None):
    """A local date-time (Codat's `date`: no offset) `n` days before `base` (today, UTC)."""
    base = base or datetime.now(timezone.utc).date()
    return f"{(base - timedelta(days=n)).isoformat()}T{at}"


def midnight(d: date):
    return f"{d.isoformat()}T00:00:00Z"


def sandbox(method, path, body=None):
    """The QuickBooks sandbox's JSON interface (the platform side; no Codat operation).
    Returns (status, JSON or None)."""
    req = urllib.request.Request(f"{ctx.base}{path}", method=method)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, (json.loads(text) if text else None)


def new_company(name, description=None):
    body = {"name": name}
    if description:
        body["description"] = description
    c = ctx.sdk.companies.create(request=body)
    check_company(c, name)
    conn = ctx.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "hcws"}})
    check_connection(conn, "hcws")
    return SimpleNamespace(company=c.id, conn=conn.id, where={"company_id": c.id, "connection_id": conn.id})


def v2_account(id, name="Checking", balance=0, **more):
    return {"id": id, "account_name": name, "account_type": "checking", "account_number": "12345670",
            "currency": "USD", "balance": Decimal(str(balance)), **more}


def generate_credentials(where):
    # The SDK requires a bytes body (and sends it as a JSON string); the hub ignores it.
    return ctx.sdk.source_accounts.generate_credentials(request={**where, "request_body": b""})


def link_in_quickbooks(where, account_ids, start: date, name="Books"):
    """The customer's side: types the generated credentials into the QuickBooks sandbox, picks
    the accounts and a feed start date. Returns (sandbox company id, {account id: feed id})."""
    creds = generate_credentials(where)
    check(isinstance(creds, shared.BankAccountCredentials), f"not BankAccountCredentials: {type(creds)}")
    s, books = sandbox("POST", "/sandbox/intuit/api/companies", {"name": name})
    check(s in (200, 201), f"sandbox company: {s} {books}")
    books = books["company"]["id"]
    s, bound = sandbox("POST", "/sandbox/intuit/api/link/credentials",
                       {"company_id": books, "username": creds.username, "password": creds.password})
    eq(s, 200, f"link/credentials {bound}")
    offered = {a["internal_bank_account_id"]: a["id"] for a in bound["bank_feed_accounts"]}
    check(set(account_ids) <= set(offered), f"offered {sorted(offered)}, want {account_ids}")
    s, done = sandbox("POST", "/sandbox/intuit/api/link/complete", {
        "challenge": bound["challenge"], "bank_feed_account_ids": [offered[a] for a in account_ids],
        "start_date": midnight(start)})
    eq(s, 200, f"link/complete {done}")
    return books, offered


def accounts_by_id(where):
    return {a.id: a for a in ctx.sdk.source_accounts.list(request=where)}


def tx(id, when, amount, balance, kind=None, description=None):
    t = {"id": id, "date": when, "description": description or f"tx {id}",
         "amount": Decimal(str(amount)), "balance": Decimal(str(balance))}
    t["transaction_type"] = kind or ("Debit" if Decimal(str(amount)) < 0 else "Credit")
    return t


def push(where, account, txs, **query):
    return ctx.sdk.transactions.create(request={
        **where, "account_id": account, **query,
        "create_bank_transactions": {"account_id": account, "transactions": txs}})


def settled(company, key):
    for _ in range(400):
        op = ctx.sdk.transactions.get_create_operation(request={"company_id": company, "push_operation_key": key})
        if enum_value(op.status) != "Pending":
            return op
        time.sleep(0.025)
    raise Failure(f"push {key} still Pending after 10 s")


def pushed(where, account, txs, **query):
    """Pushes, checks the immediate answer, and returns the settled operation."""
    op = push(where, account, txs, **query)
    check(isinstance(op, shared.CreateBankTransactionsResponse), f"not CreateBankTransactionsResponse: {type(op)}")
    eq((enum_value(op.status), op.status_code), ("Pending", 202), "the push's first answer")
    return settled(where["company_id"], op.push_operation_key)


def created(op):
    return [c.record_ref.id for c in (op.changes or []) if enum_value(c.type) == "Created"]


def succeeded(op, ids):
    eq((enum_value(op.status), op.status_code), ("Success", 200), f"status ({op.error_message})")
    eq(created(op), ids, "Created changes")
    for c in op.changes or []:
        eq(enum_value(c.record_ref.data_type), "bankTransactions", "recordRef.dataType")
    check(op.completed_on_utc, "completedOnUtc is empty")


def failed(op, rule, item):
    eq(enum_value(op.status), "Failed", f"status of a push breaking {rule}")
    check(op.status_code >= 400, f"statusCode {op.status_code}")
    check(op.error_message, "errorMessage is empty")
    errs = [(e.validator_name, e.item_id) for e in ((op.validation and op.validation.errors) or [])]
    check((rule, item) in errs, f"validation.errors {errs}, want ({rule}, {item})")
    eq(created(op), [], "nothing Created")


# --- source accounts

@case("source_accounts.create: seed 001's V2 account is pending, with no feedStartDate")
def _():
    ctx.sa = new_company("Source Accounts Co")
    a = ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": {
        "id": "ac-001", "account_name": "account-001", "account_type": "checking", "account_number": "12345670",
        "sort_code": "12-34-56", "currency": "USD", "balance": Decimal("4002")}})
    # The SDK's create answer is Union[SourceAccount, SourceAccountV2]: a V2 account without
    # routingInfo/accountInfo has exactly v1's fields, so the SDK may pick either model.
    check(isinstance(a, (shared.SourceAccountV2, shared.SourceAccount)), f"not a source account: {type(a)} {a}")
    eq((a.id, a.account_name, enum_value(a.account_type), a.account_number, a.sort_code, a.currency),
       ("ac-001", "account-001", "checking", "12345670", "12-34-56", "USD"), "the account")
    eq(D(a.balance), Decimal("4002"), "balance")
    eq(enum_value(a.status), "pending", "status")
    eq(a.feed_start_date, None, "feedStartDate")
    routed = ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": v2_account(
        "ac-rt", routing_info={"bank_code": "021000021", "type": "rtn"},
        account_info={"description": "Operating account", "nickname": "Ops", "available_balance": Decimal("3.5")})})
    check(isinstance(routed, shared.SourceAccountV2), f"not a SourceAccountV2: {type(routed)} {routed}")
    eq((routed.routing_info.bank_code, enum_value(routed.routing_info.type)), ("021000021", "rtn"), "routingInfo")
    eq((routed.account_info.nickname, D(routed.account_info.available_balance)), ("Ops", Decimal("3.5")),
       "accountInfo")
    eq(enum_value(routed.status), "pending", "status")


@case("source_accounts.create: the v1 model needs only an id; 400 for a duplicate id, bad currency, no id")
def _():
    v1 = ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": {
        "id": "acc-v1", "account_type": "Debit", "currency": "GBP", "balance": Decimal("1234.50")}})
    eq((v1.id, v1.account_type, v1.currency, D(v1.balance)), ("acc-v1", "Debit", "GBP", Decimal("1234.5")), "v1")
    eq(enum_value(v1.status), "pending", "status")
    expect_error(lambda: ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": v2_account("ac-001")}),
                 400, "SOURCE_ACCOUNT_EXISTS")
    expect_error(lambda: ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": {
        "id": "x", "currency": "XXY"}}), 400, "INVALID_CURRENCY")
    expect_error(lambda: ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": {
        "id": "x", "currency": "USD", "balance": Decimal("1.001")}}), 400, "TOO_MANY_DECIMALS")
    # The SDK's models require `id`, so a body without one is built past its validation.
    idless = shared.SourceAccountPrototype.model_construct(account_name="no id", currency="USD")
    expect_error(lambda: ctx.sdk.source_accounts.create(request={**ctx.sa.where, "request_body": idless}),
                 400, "MISSING_FIELD")
    eq(sorted(accounts_by_id(ctx.sa.where)), ["ac-001", "ac-rt", "acc-v1"], "nothing created by the refusals")


@case("source_accounts.create_batch: 207 with a result per account when one is refused, 201 when none")
def _():
    results = ctx.sdk.source_accounts.create_batch(request={**ctx.sa.where, "request_body": [
        v2_account("sav-1", "Savings", account_type="savings"),
        v2_account("ac-001"),
        v2_account("card-1", "Card", -12.5, account_type="creditCard", account_number="4111"),
    ]})
    eq([r.source_account_id for r in results], ["sav-1", "ac-001", "card-1"], "sourceAccountId per item")
    eq([str(r.result.status_code) for r in results], ["201", "400", "201"], "statusCode per item")
    check(results[1].result.error, f"the refused item has no error: {results[1]}")
    card = results[2].result.account
    eq((card.id, enum_value(card.account_type), D(card.balance)), ("card-1", "creditCard", Decimal("-12.5")), "card")
    all_new = ctx.sdk.source_accounts.create_batch(request={**ctx.sa.where, "request_body": [
        v2_account("sav-2", "Savings 2", 10), v2_account("sav-3", "Savings 3", 20.25)]})
    eq([(r.source_account_id, str(r.result.status_code)) for r in all_new], [("sav-2", "201"), ("sav-3", "201")],
       "201 for every item")
    eq(D(all_new[1].result.account.balance), Decimal("20.25"), "balance")


@case("source_accounts.list: a bare array of every account, in creation order")
def _():
    listed = ctx.sdk.source_accounts.list(request=ctx.sa.where)
    check(isinstance(listed, list), f"not a list: {type(listed)}")
    eq([a.id for a in listed], ["ac-001", "ac-rt", "acc-v1", "sav-1", "card-1", "sav-2", "sav-3"], "ids")
    eq({enum_value(a.status) for a in listed}, {"pending"}, "statuses")
    expect_error(lambda: ctx.sdk.source_accounts.list(request={**ctx.sa.where, "connection_id": str(uuid.uuid4())}),
                 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: ctx.sdk.source_accounts.list(request={**ctx.sa.where, "company_id": str(uuid.uuid4())}),
                 404, "COMPANY_NOT_FOUND")


@case("source_accounts.update: name always, balance while pending, other fields ignored; 400, 404")
def _():
    one = {**ctx.sa.where, "account_id": "ac-001"}
    got = ctx.sdk.source_accounts.update(request={**one, "source_account": {
        "id": "ac-001", "account_name": "Operating", "account_type": "Credit", "account_number": "999",
        "currency": "EUR", "balance": Decimal("99.99")}})
    check(isinstance(got, shared.SourceAccount), f"not a SourceAccount: {type(got)}")
    eq((got.account_name, got.account_type, got.account_number, got.currency, D(got.balance)),
       ("Operating", "checking", "12345670", "USD", Decimal("99.99")), "name and balance changed, the rest kept")
    eq(enum_value(got.status), "pending", "status")
    eq(D(accounts_by_id(ctx.sa.where)["ac-001"].balance), Decimal("99.99"), "listed balance")
    # Sending the current status back (as a read-modify-write of the v1 model does) is no change.
    same = ctx.sdk.source_accounts.update(request={**one, "source_account": {"id": "ac-001", "status": "pending"}})
    eq(enum_value(same.status), "pending", "status sent unchanged")
    for status in ("connected", "connecting", "unknown"):
        expect_error(lambda: ctx.sdk.source_accounts.update(request={**one, "source_account": {
            "id": "ac-001", "status": status}}), 400, "INVALID_STATUS")
    expect_error(lambda: ctx.sdk.source_accounts.update(request={**one, "source_account": {"id": "other"}}),
                 400, "ID_MISMATCH")
    expect_error(lambda: ctx.sdk.source_accounts.update(request={**ctx.sa.where, "account_id": "nope",
                 "source_account": {"id": "nope", "account_name": "x"}}), 404, "SOURCE_ACCOUNT_NOT_FOUND")


@case("source_accounts.delete: 204, then 404 SOURCE_ACCOUNT_NOT_FOUND")
def _():
    one = {**ctx.sa.where, "account_id": "sav-2"}
    eq(ctx.sdk.source_accounts.delete(request=one), None, "delete returns")
    expect_error(lambda: ctx.sdk.source_accounts.delete(request=one), 404, "SOURCE_ACCOUNT_NOT_FOUND")
    check("sav-2" not in accounts_by_id(ctx.sa.where), "still listed")
    expect_error(lambda: ctx.sdk.source_accounts.delete(request={
        **ctx.sa.where, "connection_id": str(uuid.uuid4()), "account_id": "ac-001"}), 404, "CONNECTION_NOT_FOUND")


@case("source_accounts.generate_credentials: a new set each call; delete_credentials revokes all (204)")
def _():
    sets = [generate_credentials(ctx.sa.where) for _ in range(3)]
    for c in sets:
        check(isinstance(c, shared.BankAccountCredentials), f"not BankAccountCredentials: {type(c)}")
        check(c.username and c.password, f"empty credentials {c}")
    eq(len({c.username for c in sets}), 3, "three usernames")
    eq(len({c.password for c in sets}), 3, "three passwords")
    s, books = sandbox("POST", "/sandbox/intuit/api/companies", {"name": "Revoked Books"})
    books = books["company"]["id"]

    def try_link(c, password=None):
        return sandbox("POST", "/sandbox/intuit/api/link/credentials",
                       {"company_id": books, "username": c.username, "password": password or c.password})

    s, body = try_link(sets[0], "bfpw_wrong")
    check(s >= 400 and body.get("error_code") == "INVALID_CREDENTIALS", f"a wrong password: {s} {body}")
    eq(ctx.sdk.source_accounts.delete_credentials(request=ctx.sa.where), None, "delete_credentials returns")
    for c in sets:
        s, body = try_link(c)
        check(s >= 400 and body.get("error_code") == "INVALID_CREDENTIALS", f"revoked set still links: {s} {body}")
    fresh = generate_credentials(ctx.sa.where)
    check(fresh.username not in {c.username for c in sets}, "a new set after revoking")
    unknown = {**ctx.sa.where, "connection_id": str(uuid.uuid4())}
    expect_error(lambda: generate_credentials(unknown), 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: ctx.sdk.source_accounts.delete_credentials(request=unknown), 404, "CONNECTION_NOT_FOUND")
    ctx.sdk.source_accounts.delete_credentials(request=ctx.sa.where)


# --- seed 004: Codat's QuickBooks bank-transactions tutorial, end to end

ATM = {"id": "ca1ba928-fc81-4674-acb7-39205929396f", "description": "HSBC Covent Grdn ATM W",
       "amount": Decimal("7991.59"), "balance": Decimal("8009.11"), "transaction_type": "Atm", "reconciled": False}


@case("seed 004: a company with a description and a QuickBooks Online Bank Feeds (hcws) connection")
def _():
    c = ctx.sdk.companies.create(request=shared.CompanyRequestBody(
        name="Elaborate Events, Inc", description="Requested early access to the new bank reconciliation scheme."))
    check_company(c, "Elaborate Events, Inc")
    eq(c.description, "Requested early access to the new bank reconciliation scheme.", "description")
    conn = ctx.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "hcws"}})
    check_connection(conn, "hcws")
    ctx.t = SimpleNamespace(company=c.id, conn=conn.id, where={"company_id": c.id, "connection_id": conn.id})


@case("seed 004: the bank feed account (the tutorial's v1 body) is pending")
def _():
    a = ctx.sdk.source_accounts.create(request={**ctx.t.where, "request_body": shared.SourceAccountPrototype(
        id="352c5955-907a-4ff1-a3a2-fa9467739251", account_name="Account 002", account_number="12345670",
        account_type="Debit", balance=Decimal("6531.4"), currency="GBP", sort_code="123456")})
    eq((a.id, a.account_name, D(a.balance), enum_value(a.status)),
       ("352c5955-907a-4ff1-a3a2-fa9467739251", "Account 002", Decimal("6531.4"), "pending"), "the account")
    ctx.t.account = a.id


@case("seed 004: generated credentials link it in the QuickBooks sandbox with a feed start date")
def _():
    ctx.t.start = datetime.now(timezone.utc).date() - timedelta(days=5)
    ctx.t.books, offered = link_in_quickbooks(ctx.t.where, [ctx.t.account], ctx.t.start, "Elaborate Books")
    ctx.t.feed = offered[ctx.t.account]
    check_connection(ctx.sdk.connections.get(request=ctx.t.where), "hcws", status="Linked")
    a = accounts_by_id(ctx.t.where)[ctx.t.account]
    eq(enum_value(a.status), "connected", "status")
    check((a.feed_start_date or "").startswith(ctx.t.start.isoformat()), f"feedStartDate {a.feed_start_date!r}")
    s, feeds = sandbox("GET", f"/sandbox/intuit/api/companies/{ctx.t.books}/feeds")
    eq(s, 200, f"feeds {feeds}")
    check(ctx.t.feed in [f["id"] for f in feeds["bank_feed_accounts"]], f"the sandbox's feeds: {feeds}")


@case("seed 004: push the ATM transaction: 200, Pending (statusCode 202), the request echoed")
def _():
    # The tutorial's cleared-on date style (7 fractional digits and a Z, which Codat ignores),
    # moved into the window: 6 days back, a day before the feed start date.
    when = day(6, at="14:14:14.1057478Z")
    op = push(ctx.t.where, ctx.t.account, [{**ATM, "date": when}], timeout_in_minutes=30)
    check(isinstance(op, shared.CreateBankTransactionsResponse), f"not CreateBankTransactionsResponse: {type(op)}")
    eq((enum_value(op.status), op.status_code), ("Pending", 202), "status")
    eq((op.company_id, op.data_connection_key), (ctx.t.company, ctx.t.conn), "companyId, dataConnectionKey")
    check(UUID.match(op.push_operation_key), f"pushOperationKey {op.push_operation_key!r}")
    eq(enum_value(op.data_type), "bankTransactions", "dataType")
    eq(op.timeout_in_minutes, 30, "timeoutInMinutes")
    check(op.requested_on_utc, "requestedOnUtc is empty")
    eq(op.data.account_id, ctx.t.account, "data.accountId")
    echoed = op.data.transactions[0]
    eq((echoed.id, echoed.date_, echoed.description, D(echoed.amount), D(echoed.balance),
        enum_value(echoed.transaction_type)),
       (ATM["id"], when, ATM["description"], ATM["amount"], ATM["balance"], "Atm"), "data.transactions[0]")
    ctx.t.key = op.push_operation_key


@case("seed 004: the push operation ends Success with one Created change")
def _():
    op = settled(ctx.t.company, ctx.t.key)
    check(isinstance(op, shared.PushOperation), f"not a PushOperation: {type(op)}")
    succeeded(op, [ATM["id"]])
    eq(op.push_operation_key, ctx.t.key, "pushOperationKey")
    eq(op.timeout_in_minutes, 30, "timeoutInMinutes")


@case("seed 004: list push operations, newest first (orderBy -requestedOnUtc)")
def _():
    second = pushed(ctx.t.where, ctx.t.account, [tx("coffee-1", day(1), -9.11, 8000.00, description="Coffee beans")])
    succeeded(second, ["coffee-1"])
    ops = ctx.sdk.transactions.list_create_operations(request={"company_id": ctx.t.company,
                                                                "order_by": "-requestedOnUtc"})
    check(isinstance(ops, shared.PushOperations), f"not PushOperations: {type(ops)}")
    eq([o.push_operation_key for o in ops.results], [second.push_operation_key, ctx.t.key], "newest first")
    eq([enum_value(o.status) for o in ops.results], ["Success", "Success"], "statuses")
    eq((ops.page_number, ops.page_size, ops.total_results), (1, 100, 2), "paging")
    eq(ops.links.self_.href, f"/codat/companies/{ctx.t.company}/push", "_links.self")
    oldest = ctx.sdk.transactions.list_create_operations(request={"company_id": ctx.t.company,
                                                                   "order_by": "requestedOnUtc"})
    eq([o.push_operation_key for o in oldest.results], [ctx.t.key, second.push_operation_key], "oldest first")


@case("seed 004: QuickBooks ingests: the sandbox feed shows the transactions with running balances")
def _():
    s, synced = sandbox("POST", f"/sandbox/intuit/api/companies/{ctx.t.books}/feeds/{ctx.t.feed}/sync")
    eq(s, 200, f"sync {synced}")
    eq(synced["transactions_ingested"], 2, "ingested")
    s, feed = sandbox("GET", f"/sandbox/intuit/api/companies/{ctx.t.books}/feeds/{ctx.t.feed}")
    eq(s, 200, f"feed {feed}")
    rows = [t for st in reversed(feed["statements"]) for t in st["transactions"]]
    eq([(t["transaction_id"], t["description"], D(t["amount"]), D(t["balance"])) for t in rows], [
        (ATM["id"], ATM["description"], Decimal("7991.59"), Decimal("8009.11")),
        ("coffee-1", "Coffee beans", Decimal("-9.11"), Decimal("8000.00")),
    ], "the feed's transactions")
    eq(D(feed["statements"][0]["closing_balance"]), Decimal("8000.00"), "closing balance")
    eq(D(accounts_by_id(ctx.t.where)[ctx.t.account].balance), Decimal("8000.00"), "source account balance")


# --- QuickBooks' push rules, one account each, on one linked connection

RULE_ACCOUNTS = ["r-future", "r-window", "r-chrono", "r-older", "r-batch", "r-balance", "r-resend", "r-core",
                 "r-locked", "r-errors"]


@case("QuickBooks rules: a linked connection with one connected account per rule")
def _():
    ctx.r = new_company("Rules Co")
    results = ctx.sdk.source_accounts.create_batch(request={**ctx.r.where, "request_body": [
        v2_account(a, a, 100) for a in RULE_ACCOUNTS]})
    eq({str(r.result.status_code) for r in results}, {"201"}, "all created")
    ctx.r.start = datetime.now(timezone.utc).date() - timedelta(days=3)
    ctx.r.books, ctx.r.feeds = link_in_quickbooks(ctx.r.where, RULE_ACCOUNTS, ctx.r.start, "Rules Books")
    listed = accounts_by_id(ctx.r.where)
    eq({a: enum_value(listed[a].status) for a in RULE_ACCOUNTS}, {a: "connected" for a in RULE_ACCOUNTS}, "statuses")


@case("QuickBooks rule: no future-dated transactions (FUTURE_DATED)")
def _():
    future = (datetime.now(timezone.utc).date() + timedelta(days=2)).isoformat() + "T10:00:00"
    failed(pushed(ctx.r.where, "r-future", [tx("f1", future, 1, 101)]), "FUTURE_DATED", "f1")
    succeeded(pushed(ctx.r.where, "r-future", [tx("f2", day(1), 1, 101)]), ["f2"])


@case("QuickBooks rule: at most 7 days before the feed start date (8 refused, 7 accepted)")
def _():
    eight = day(8, base=ctx.r.start)
    seven = day(7, base=ctx.r.start)
    failed(pushed(ctx.r.where, "r-window", [tx("w8", eight, 1, 101)]), "BEFORE_HISTORY_WINDOW", "w8")
    succeeded(pushed(ctx.r.where, "r-window", [tx("w7", seven, 1, 101)]), ["w7"])


@case("QuickBooks rule: transactions in chronological order (NOT_CHRONOLOGICAL)")
def _():
    failed(pushed(ctx.r.where, "r-chrono", [tx("c1", day(2), 1, 101), tx("c2", day(3), 1, 102)]),
           "NOT_CHRONOLOGICAL", "c2")
    succeeded(pushed(ctx.r.where, "r-chrono", [tx("c2", day(3), 1, 101), tx("c1", day(2), 1, 102)]), ["c2", "c1"])


@case("QuickBooks rule: none older than the newest in the account (OLDER_THAN_STORED)")
def _():
    succeeded(pushed(ctx.r.where, "r-older", [tx("o1", day(2), 1, 101)]), ["o1"])
    failed(pushed(ctx.r.where, "r-older", [tx("o0", day(4), 1, 102)]), "OLDER_THAN_STORED", "o0")
    succeeded(pushed(ctx.r.where, "r-older", [tx("o2", day(2, at="13:00:00"), 1, 102)]), ["o2"])


@case("QuickBooks rule: at most 1000 per push (1001 refused, 1000 accepted)")
def _():
    def batch(n, prefix):
        return [tx(f"{prefix}{i}", day(1, at=f"{i // 3600:02}:{i // 60 % 60:02}:{i % 60:02}"), 1, 101 + i)
                for i in range(n)]
    op = pushed(ctx.r.where, "r-batch", batch(1001, "big"))
    eq(enum_value(op.status), "Failed", "1001")
    eq([e.validator_name for e in op.validation.errors], ["BATCH_TOO_LARGE"], "validatorName")
    eq(created(op), [], "nothing Created")
    op = pushed(ctx.r.where, "r-batch", batch(1000, "ok"))
    succeeded(op, [f"ok{i}" for i in range(1000)])
    eq(D(accounts_by_id(ctx.r.where)["r-batch"].balance), Decimal("1100"), "balance after 1000")


@case("QuickBooks rule: the last transaction's balance becomes the account balance")
def _():
    eq(D(accounts_by_id(ctx.r.where)["r-balance"].balance), Decimal("100"), "balance before")
    succeeded(pushed(ctx.r.where, "r-balance", [
        tx("b1", day(3), 25.5, 125.5), tx("b2", day(2), -0.5, 125), tx("b3", day(1), 1234.56, 1359.56)]),
        ["b1", "b2", "b3"])
    eq(D(accounts_by_id(ctx.r.where)["r-balance"].balance), Decimal("1359.56"), "balance after")
    succeeded(pushed(ctx.r.where, "r-balance", [tx("b4", day(1, at="13:00:00"), -1359.56, 0)]), ["b4"])
    eq(D(accounts_by_id(ctx.r.where)["r-balance"].balance), Decimal("0"), "balance after a zeroing push")


@case("QuickBooks rule: a push to a not-connected account is refused (400 SOURCE_ACCOUNT_NOT_CONNECTED)")
def _():
    ctx.sdk.source_accounts.create(request={**ctx.r.where, "request_body": v2_account("r-pending")})
    e = expect_error(lambda: push(ctx.r.where, "r-pending", [tx("p1", day(1), 1, 1)]),
                     400, "SOURCE_ACCOUNT_NOT_CONNECTED")
    check("pending" in e.data.error, f"error names the status: {e.data.error}")
    off = ctx.sdk.source_accounts.update(request={**ctx.r.where, "account_id": "r-locked", "source_account": {
        "id": "r-locked", "status": "disconnected"}})
    eq(enum_value(off.status), "disconnected", "status")
    expect_error(lambda: push(ctx.r.where, "r-locked", [tx("p2", day(1), 1, 1)]), 400, "SOURCE_ACCOUNT_NOT_CONNECTED")


@case("QuickBooks rule: a re-sent identical transaction is not duplicated; different content conflicts")
def _():
    first = [tx("d1", day(2), 10, 110), tx("d2", day(1), -5, 105)]
    succeeded(pushed(ctx.r.where, "r-resend", first), ["d1", "d2"])
    succeeded(pushed(ctx.r.where, "r-resend", first), [])
    succeeded(pushed(ctx.r.where, "r-resend", [first[1], tx("d3", day(1, at="13:00:00"), 1, 106)]), ["d3"])
    failed(pushed(ctx.r.where, "r-resend", [tx("d3", day(1, at="13:00:00"), 2, 107)]), "TRANSACTION_ID_CONFLICT", "d3")


@case("source_accounts.update: balance locked while connected (400 BALANCE_LOCKED); the name, same balance and status pass")
def _():
    one = {**ctx.r.where, "account_id": "r-core"}
    expect_error(lambda: ctx.sdk.source_accounts.update(request={**one, "source_account": {
        "id": "r-core", "balance": Decimal("5")}}), 400, "BALANCE_LOCKED")
    got = ctx.sdk.source_accounts.update(request={**one, "source_account": {
        "id": "r-core", "account_name": "Core", "balance": Decimal("100"), "status": "connected"}})
    eq((got.account_name, enum_value(got.status), D(got.balance)), ("Core", "connected", Decimal("100")), "renamed")


@case("transactions.create: 400 before any operation for what cannot be a transaction; 404 unknown account")
def _():
    where, acct = ctx.r.where, "r-errors"
    before = ctx.sdk.transactions.list_create_operations(request={"company_id": ctx.r.company}).total_results
    nameless = {k: v for k, v in tx("x1", day(1), 1, 1).items() if k != "description"}
    e = expect_error(lambda: push(where, acct, [nameless]), 400, "MISSING_FIELD", item="x1")
    check(any(v.validator_name == "MISSING_FIELD" for v in e.data.validation.errors), f"validatorName: {e.body}")
    expect_error(lambda: push(where, acct, [tx("x2", "soon", 1, 1)]), 400, "INVALID_DATE", item="x2")
    expect_error(lambda: push(where, acct, [tx("x3", day(1), 1, 1)], timeout_in_minutes=0), 400, "INVALID_TIMEOUT")
    expect_error(lambda: ctx.sdk.transactions.create(request={
        **where, "account_id": acct, "create_bank_transactions": {"account_id": "r-core", "transactions": []}}),
        400, "ACCOUNT_ID_MISMATCH")
    expect_error(lambda: push(where, "nope", [tx("x4", day(1), 1, 1)]), 404, "SOURCE_ACCOUNT_NOT_FOUND")
    expect_error(lambda: push({**where, "connection_id": str(uuid.uuid4())}, acct, [tx("x5", day(1), 1, 1)]),
                 404, "CONNECTION_NOT_FOUND")
    eq(ctx.sdk.transactions.list_create_operations(request={"company_id": ctx.r.company}).total_results, before,
       "no push operation was made")


@case("transactions.get_create_operation: 404 PUSH_OPERATION_NOT_FOUND (unknown key, another company's)")
def _():
    for key in (str(uuid.uuid4()), "not-a-key", ctx.t.key):
        expect_error(lambda: ctx.sdk.transactions.get_create_operation(request={
            "company_id": ctx.r.company, "push_operation_key": key}), 404, "PUSH_OPERATION_NOT_FOUND")
    expect_error(lambda: ctx.sdk.transactions.get_create_operation(request={
        "company_id": str(uuid.uuid4()), "push_operation_key": ctx.t.key}), 404, "COMPANY_NOT_FOUND")


@case("transactions.list_create_operations: paging, query on status, orderBy")
def _():
    req = {"company_id": ctx.r.company}
    everything = ctx.sdk.transactions.list_create_operations(request=req)
    statuses = [enum_value(o.status) for o in everything.results]
    eq(everything.total_results, len(statuses), "totalResults")
    check(set(statuses) <= {"Success", "Failed"}, f"statuses {statuses}")
    for o in everything.results:
        eq((o.company_id, o.data_connection_key), (ctx.r.company, ctx.r.conn), "companyId, dataConnectionKey")
    n_failed = statuses.count("Failed")
    page = ctx.sdk.transactions.list_create_operations(request={
        **req, "query": "status=Failed", "order_by": "-requestedOnUtc", "page_size": 2, "page": 1})
    eq((page.total_results, len(page.results)), (n_failed, 2), "query status=Failed, page 1 of 2 per page")
    eq({enum_value(o.status) for o in page.results}, {"Failed"}, "only Failed")
    check(page.results[0].requested_on_utc >= page.results[1].requested_on_utc, "newest first")
    check(page.links.next is not None and page.links.previous is None, "page 1's links")
    p2 = ctx.sdk.transactions.list_create_operations(request={
        **req, "query": "status=Failed", "order_by": "-requestedOnUtc", "page_size": 2, "page": 2})
    check(page.results[1].requested_on_utc >= p2.results[0].requested_on_utc, "page 2 continues page 1")
    check(p2.links.previous is not None, "page 2's previous")
    expect_error(lambda: ctx.sdk.transactions.list_create_operations(request={**req, "query": "status=="}),
                 400, "MALFORMED_QUERY")
    expect_error(lambda: ctx.sdk.transactions.list_create_operations(request={**req, "page_size": 0}),
                 400, "INVALID_PAGE_SIZE")
    expect_error(lambda: ctx.sdk.transactions.list_create_operations(request={"company_id": str(uuid.uuid4())}),
                 404, "COMPANY_NOT_FOUND")


@case("transactions.get_create_model: a PushOption; QuickBooks requires a description")
def _():
    model = ctx.sdk.transactions.get_create_model(request={**ctx.r.where, "account_id": "r-core"})
    check(isinstance(model, shared.PushOption), f"not a PushOption: {type(model)}")
    eq((enum_value(model.type), model.required), ("Object", True), "type, required")
    check(model.display_name, "displayName is empty")
    txs = model.properties["transactions"]
    eq(enum_value(txs.type), "Array", "transactions' type")
    for name, required in [("id", True), ("date", True), ("amount", True), ("balance", True), ("description", True),
                           ("counterparty", False)]:
        eq(txs.properties[name].required, required, f"{name}.required")
    expect_error(lambda: ctx.sdk.transactions.get_create_model(request={**ctx.r.where, "account_id": "nope"}),
                 404, "SOURCE_ACCOUNT_NOT_FOUND")


@case("one core, two doors: the QuickBooks sandbox shows each pushed transaction once, exact amounts and balances")
def _():
    sent = [tx("k1", day(3), 250, 350, kind="Dep", description="Deposit"),
            tx("k2", day(2), -19.99, 330.01, kind="Pos", description="Hardware store"),
            tx("k3", day(1), -0.01, 330, kind="Fee", description="Fee")]
    succeeded(pushed(ctx.r.where, "r-core", sent), ["k1", "k2", "k3"])
    succeeded(pushed(ctx.r.where, "r-core", sent[1:]), [])  # re-sent: nothing new
    feed_path = f"/sandbox/intuit/api/companies/{ctx.r.books}/feeds/{ctx.r.feeds['r-core']}"
    s, first = sandbox("POST", f"{feed_path}/sync")
    eq((s, first["transactions_ingested"]), (200, 3), f"first sync {first}")
    succeeded(pushed(ctx.r.where, "r-core", sent), [])  # re-sent after ingestion: still nothing new
    s, again = sandbox("POST", f"{feed_path}/sync")
    eq((s, again["transactions_ingested"], again["statements"]), (200, 0, []), "second sync ingests nothing")
    s, feed = sandbox("GET", feed_path)
    eq(s, 200, f"feed {feed}")
    rows = [t for st in reversed(feed["statements"]) for t in st["transactions"]]
    eq([(t["transaction_id"], t["description"], D(t["amount"]), D(t["balance"])) for t in rows],
       [(t["id"], t["description"], t["amount"], t["balance"]) for t in sent], "the feed, once each")
    eq(len(feed["statements"]), 1, "one statement")
    st = feed["statements"][0]
    eq((st["transaction_count"], D(st["opening_balance"]), D(st["closing_balance"])),
       (3, Decimal("100"), Decimal("330")), "the statement")
    eq(D(accounts_by_id(ctx.r.where)["r-core"].balance), Decimal("330"), "source account balance")
    # The same connection, seen from the Rutter-shaped door.
    s, body = http(ctx, "GET", "/versioned/connections")
    eq(s, 200, f"GET /versioned/connections {body}")
    check(ctx.r.conn in {c["id"] for c in body["connections"]}, "the Rutter-shaped door does not list it")


# ---------------------------------------------------------------- the hub

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env():
    # Only the flags configure the hub: no stray BANKFEEDS_* setting from the caller's shell.
    return {k: v for k, v in os.environ.items() if not k.startswith("BANKFEEDS_")}


def wait_healthy(base, proc):
    until = time.monotonic() + 20
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise Failure(f"the hub exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise Failure(f"no answer from {base}/healthz within 20 s")


def create_org(ctx, name):
    out = subprocess.run(
        [ctx.bin, "org", "create", "--name", name, "--database-url", ctx.db_url],
        env=hub_env(), capture_output=True, text=True, timeout=30,
    )
    check(out.returncode == 0, f"org create: {out.returncode} {out.stderr}")
    org = json.loads(out.stdout.strip().splitlines()[-1])
    check(org.get("client_id") and org.get("client_secret"), f"org create printed no credential: {out.stdout}")
    return org


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


ctx = SimpleNamespace()


# --- the connection OTP, account mapping and company information (Xero: mapping by API)

def expect_refusal(call, status, code):
    """Like expect_error, for operations whose error statuses the SDK may or may not document
    as ErrorMessage: either exception, with this status and our errorCode."""
    try:
        call()
    except (errors.ErrorMessage, errors.SDKError) as e:
        eq(e.status_code, status, f"status for {code}")
        body = json.loads(e.body) if isinstance(getattr(e, "body", None), str) and e.body else {}
        eq(body.get("errorCode"), code, "errorCode")
        return e
    raise AssertionError(f"expected a {status} {code}, the call succeeded")


@case("source_accounts.generate_otp: the connection's OTP drives Xero's redirect link; mapping and info wait for it")
def _():
    c = ctx.sdk.companies.create(request={"name": "Mapping Co"})
    conn = ctx.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "gbol"}})
    ctx.m = SimpleNamespace(company=c.id, where={"company_id": c.id, "connection_id": conn.id})
    for a in ["cur-1", "sav-1"]:
        ctx.sdk.source_accounts.create(request={**ctx.m.where, "request_body": {**v2_account(a, a, 10), "currency": "GBP"}})
    before = ctx.sdk.account_mapping.get(request=ctx.m.where)
    eq([(m.source_account_id, str(m.status)) for m in before], [("cur-1", "pending"), ("sav-1", "pending")], "mappings before")
    expect_refusal(lambda: ctx.sdk.account_mapping.create(request={**ctx.m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1"}}), 400, "CONNECTION_NOT_LINKED")
    expect_refusal(lambda: ctx.sdk.company_information.get(request=ctx.m.where), 404, "COMPANY_INFORMATION_NOT_AVAILABLE")
    otp = ctx.sdk.source_accounts.generate_otp(request=ctx.m.where)
    check(otp.otp.startswith("bfotp_") and otp.expiry, f"otp {otp}")
    status, _ = http(ctx, "PUT", "/versioned/bank_feeds/configs/XERO", {
        "display_name": "Codat SDK Bank", "login_url": "https://bank.example/login", "country_code": "GB"})
    eq(status, 200, "FI configuration for Xero")
    s, books = sandbox("POST", "/sandbox/xero/api/companies", {"name": "Mapping Books"})
    ctx.m.books = books["company"]["id"]
    s, connect = sandbox("POST", f"/sandbox/xero/api/companies/{ctx.m.books}/connect", {"org_id": ctx.org["id"]})
    eq(s, 200, f"connect {connect}")
    s, bound = sandbox("POST", "/sandbox/xero/api/link/redirect", {"challenge": connect["challenge"], "otp": otp.otp})
    eq(s, 200, f"redirect {bound}")
    first = [a["id"] for a in bound["bank_feed_accounts"] if a["internal_bank_account_id"] == "cur-1"]
    s, done = sandbox("POST", "/sandbox/xero/api/link/complete", {"challenge": connect["challenge"], "bank_feed_account_ids": first})
    eq(s, 200, f"complete {done}")
    check_connection(ctx.sdk.connections.get(request=ctx.m.where), "gbol", status="Linked")


@case("account_mapping.get/create: map the second account into the linked Xero company")
def _():
    mappings = {m.source_account_id: m for m in ctx.sdk.account_mapping.get(request=ctx.m.where)}
    eq(str(mappings["cur-1"].status), "connected", "the linked one")
    check(mappings["cur-1"].target_account_id, "a connected mapping names its target")
    options = mappings["sav-1"].target_account_options or []
    eq(len(options), 1, "one target option")
    expect_refusal(lambda: ctx.sdk.account_mapping.create(request={**ctx.m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1", "target_account_id": "elsewhere"}}), 400, "UNKNOWN_TARGET_ACCOUNT")
    mapped = ctx.sdk.account_mapping.create(request={**ctx.m.where, "bank_feed_account_mapping": {
        "source_account_id": "sav-1", "target_account_id": options[0].id, "feed_start_date": day(20)}})
    eq((mapped.source_account_id, str(mapped.status)), ("sav-1", "connected"), "mapped")
    statuses = {a.id: enum_value(a.status) for a in ctx.sdk.source_accounts.list(request=ctx.m.where)}
    eq(statuses, {"cur-1": "connected", "sav-1": "connected"}, "both connected")
    s, feeds = sandbox("GET", f"/sandbox/xero/api/companies/{ctx.m.books}/feeds")
    eq(len(feeds["bank_feed_accounts"]), 2, "two feeds in the Xero company")
    qbo = new_company("Mapping QBO Co")
    expect_refusal(lambda: ctx.sdk.account_mapping.create(request={**qbo.where, "bank_feed_account_mapping": {
        "source_account_id": "x"}}), 400, "MAPPING_IN_PLATFORM")


@case("company_information.get: the linked company's name and currency")
def _():
    info = ctx.sdk.company_information.get(request=ctx.m.where)
    eq((info.company_name, info.base_currency, info.multicurrency_enabled), ("Mapping Books", "GBP", False), "info")


@case("companies.get_access_token: a one-hour Bearer token that opens the company's link page with working links")
def _():
    c = ctx.sdk.companies.create(request={"name": "Token Co"})
    ctx.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "hcws"}})
    t = ctx.sdk.companies.get_access_token(request={"company_id": c.id})
    eq((t.expires_in, t.token_type), (3600, "Bearer"), "expiresIn, tokenType")
    check(t.access_token.startswith("bfct_"), f"accessToken {t.access_token[:5]}…")
    with urllib.request.urlopen(f"{c.redirect}?access_token={t.access_token}", timeout=10) as r:
        page = r.read().decode()
    check("/link/codat/start?otp=bfotp_" in page, "the page carries a working QuickBooks link")
    check(t.access_token not in page, "the token is not echoed")
    expect_error(lambda: ctx.sdk.companies.get_access_token(request={"company_id": str(uuid.uuid4())}), 404, "COMPANY_NOT_FOUND")


def main():
    sys.stdout.reconfigure(line_buffering=True)  # in order with the hub's log in CI output
    bin_arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BANKFEEDS_BIN")
    ctx.bin = str(Path(bin_arg or REPO / "target/release/bankfeeds").resolve())
    work = Path(tempfile.mkdtemp(prefix="codat-conformance-"))
    log_path = work / "hub.log"
    ctx.db_url = f"sqlite://{work / 'codat.db'}"
    proc = None
    failed = []
    try:
        port = free_port()
        ctx.base = f"http://127.0.0.1:{port}"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [ctx.bin, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", ctx.db_url,
                 "--public-url", ctx.base],
                env=hub_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        print(f"   hub: {ctx.bin} serve on {ctx.base} ({ctx.db_url})")
        wait_healthy(ctx.base, proc)
        ctx.org = create_org(ctx, "Codat SDK Bank")
        print(f"   org {ctx.org['client_id']}; SDK codat-bankfeeds {sdk_version()} at {ctx.base}/codat")
        ctx.sdk = Sdk(ctx.base, basic(ctx.org["client_id"], ctx.org["client_secret"]))

        for name, fn in CASES:
            try:
                fn()
                print(f"ok   {name}")
            except Exception as e:  # noqa: BLE001 (every failure is reported, then the next case runs)
                failed.append(name)
                print(f"FAIL {name}\n     {type(e).__name__}: {e}")
                if not isinstance(e, Failure):
                    # Where in this script it happened (the SDK's own frames are noise here).
                    for f in traceback.extract_tb(e.__traceback__):
                        if f.filename == __file__:
                            print(f"     at line {f.lineno}: {f.line}")
    except Exception as e:  # noqa: BLE001
        failed.append("setup")
        print(f"FAIL setup\n     {type(e).__name__}: {e}")
    finally:
        stop(proc)
        if failed and log_path.exists():
            print("\n--- hub log (tail)")
            print("".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-40:]), end="")
        shutil.rmtree(work, ignore_errors=True)

    all_ops = [f"{g}.{m}" for g, ms in OPERATIONS.items() for m in ms]
    covered = [op for op in all_ops if op in CALLED]
    missing = [op for op in all_ops if op not in CALLED]
    print(f"\n{len(CASES) - len(failed) if 'setup' not in failed else 0}/{len(CASES)} cases passed; "
          f"{len(covered)}/{len(all_ops)} of issue 5's SDK operations covered")
    if missing:
        print("not yet covered (not a failure):")
        for op in missing:
            print(f"   - {op}")
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    return 0


def sdk_version():
    try:
        from importlib.metadata import version
        return version("codat-bankfeeds")
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
