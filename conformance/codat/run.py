#!/usr/bin/env python3
"""Codat conformance: Codat's own Python SDK (codat-bankfeeds, pinned in requirements.txt)
against the hub's Codat door (issue 5).

    python conformance/codat/run.py [path/to/bankfeeds]     (or BANKFEEDS_BIN=path/to/bankfeeds)

The script starts its own hub (`bankfeeds serve`) on a free loopback port with a SQLite
database in a temporary directory (no BANKFEEDS_* setting from the caller's shell reaches it),
creates an organisation through the CLI, and drives the real SDK with `server_url=<hub>/codat`.
Raw HTTP is used only where the SDK has no operation (the Rutter-shaped door, the hub's health).
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
