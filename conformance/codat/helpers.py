"""What the Codat conformance tests share: the checks on the SDK's answers, the recorded SDK, raw
HTTP where the SDK has no operation, and the flows that build companies, connections, accounts
and links (conftest.py starts the hub and hands these out as fixtures).

`check`/`eq` raise AssertionError with the same messages the former run.py printed, so a
failing test says what differed in the hub's words, not only which line.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from codat_bankfeeds import CodatBankFeeds
from codat_bankfeeds.models import errors, shared
from codat_bankfeeds.utils import RetryConfig

# Issue 5's operations: what "every implemented operation" grows to. Anything here no test has
# called is listed at the end of the run as not yet covered (not a failure).
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

def check(cond, message):
    if not cond:
        raise AssertionError(message)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def enum_value(v):
    """An SDK enum member or a plain string, as its wire value."""
    return getattr(v, "value", v)


HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    raise AssertionError(f"want {label}, the call returned {result!r}")


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


# The sandbox password the session's hub is started with (`BANKFEEDS_SANDBOX_PASSWORD`).
SANDBOX_PASSWORD = "codat conformance sandbox password"


def raw_http(url, method, body=None, auth_header=None):
    """Returns (status, JSON or None)."""
    req = urllib.request.Request(url, method=method)
    if auth_header:
        req.add_header("Authorization", auth_header)
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


# ---------------------------------------------------------------- values

PLATFORMS = {
    "hcws": "QuickBooks Online Bank Feeds",
    "gbol": None,  # names as the hub gives them; only QuickBooks' is pinned here
    "olpr": None,
    "akxx": None,
}

QBO_LINK = re.compile(r"^http://[^/]+/link/codat/start\?otp=bfotp_[A-Za-z0-9_-]+$")


def D(x):
    """An SDK number (Decimal or float) as an exact decimal, by its shortest text."""
    return Decimal(str(x))


def day(n, at="12:00:00", base=None):
    """A local date-time (Codat's `date`: no offset) `n` days before `base` (today, UTC)."""
    base = base or datetime.now(timezone.utc).date()
    return f"{(base - timedelta(days=n)).isoformat()}T{at}"


def midnight(d: date):
    return f"{d.isoformat()}T00:00:00Z"


def v2_account(id, name="Checking", balance=0, **more):
    return {"id": id, "account_name": name, "account_type": "checking", "account_number": "12345670",
            "currency": "USD", "balance": Decimal(str(balance)), **more}


def tx(id, when, amount, balance, kind=None, description=None):
    t = {"id": id, "date": when, "description": description or f"tx {id}",
         "amount": Decimal(str(amount)), "balance": Decimal(str(balance))}
    t["transaction_type"] = kind or ("Debit" if Decimal(str(amount)) < 0 else "Credit")
    return t


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


def unknown_id():
    return str(uuid.uuid4())


# ---------------------------------------------------------------- one organisation's view of the hub

class Codat:
    """The hub as one organisation sees it: the recorded SDK at `<base>/codat`, the Rutter-shaped
    door with the same credential, and the sandbox platforms' JSON interfaces."""

    def __init__(self, base, org):
        self.base, self.org = base, org
        self.auth_header = basic(org["client_id"], org["client_secret"])
        self.sdk = Sdk(base, self.auth_header)

    # --- raw HTTP, only where the SDK has no operation

    def http(self, method, path, body=None):
        """The Rutter-shaped door (and the hub's own endpoints) with this organisation's credential."""
        return raw_http(f"{self.base}{path}", method, body, self.auth_header)

    def sandbox(self, method, path, body=None):
        """A sandbox platform's JSON interface (the platform side; no Codat operation), with the
        hub's sandbox password (the sandboxes are off unless turned on, and then need it)."""
        return raw_http(f"{self.base}{path}", method, body, f"Bearer {SANDBOX_PASSWORD}")

    def rutter_connection_ids(self):
        status, body = self.http("GET", "/versioned/connections")
        eq(status, 200, f"GET /versioned/connections {body}")
        return {c["id"] for c in body["connections"]}

    # --- shapes

    def check_company(self, c, name):
        check(isinstance(c, shared.Company), f"not a Company: {type(c)}")
        eq(c.name, name, "company name")
        check(UUID.match(c.id), f"company id {c.id!r}")
        check(c.redirect.startswith(self.base + "/"), f"redirect {c.redirect!r}")
        check(c.created and c.created.endswith("Z"), f"created {c.created!r}")
        eq(c.products, ["bankFeeds"], "products")

    def check_connection(self, c, key, status="PendingAuth"):
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
            check(QBO_LINK.match(c.link_url or "") and c.link_url.startswith(f"{self.base}/link/codat/start?otp="),
                  f"linkUrl {c.link_url!r}")
        else:
            eq(c.link_url, f"{self.base}/link/connections/{c.id}", "linkUrl")
        check(c.created and c.created.endswith("Z"), f"created {c.created!r}")

    # --- companies and connections

    def create_three_companies(self):
        """The companies tests' three companies (two tagged uk, one us). Returns Bank of Dave."""
        c = self.sdk.companies.create(request={
            "name": "Bank of <Dave>", "description": "Early access", "tags": {"region": "uk"},
        })
        self.check_company(c, "Bank of Dave")
        for name, region in [("Elaborate Events, Inc", "us"), ("Acme Ltd", "uk")]:
            self.check_company(self.sdk.companies.create(request={"name": name, "tags": {"region": region}}), name)
        return c

    def create_connections(self, company):
        """One PendingAuth connection per platform key. Returns {key: connection id}."""
        conns = {}
        for key in PLATFORMS:
            c = self.sdk.connections.create(request={"company_id": company, "request_body": {"platform_key": key}})
            self.check_connection(c, key)
            conns[key] = c.id
        return conns

    def new_company(self, name, description=None, platform_key="hcws"):
        """A company with one connection (QuickBooks unless told)."""
        body = {"name": name}
        if description:
            body["description"] = description
        c = self.sdk.companies.create(request=body)
        self.check_company(c, name)
        conn = self.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": platform_key}})
        self.check_connection(conn, platform_key)
        return SimpleNamespace(company=c.id, conn=conn.id, where={"company_id": c.id, "connection_id": conn.id})

    # --- source accounts, credentials, links

    def accounts_by_id(self, where):
        return {a.id: a for a in self.sdk.source_accounts.list(request=where)}

    def generate_credentials(self, where):
        # The SDK requires a bytes body (and sends it as a JSON string); the hub ignores it.
        return self.sdk.source_accounts.generate_credentials(request={**where, "request_body": b""})

    def link_in_quickbooks(self, where, account_ids, start: date, name="Books"):
        """The customer's side: types the generated credentials into the QuickBooks sandbox, picks
        the accounts and a feed start date. Returns (sandbox company id, {account id: feed id})."""
        creds = self.generate_credentials(where)
        check(isinstance(creds, shared.BankAccountCredentials), f"not BankAccountCredentials: {type(creds)}")
        s, books = self.sandbox("POST", "/sandbox/intuit/api/companies", {"name": name})
        check(s in (200, 201), f"sandbox company: {s} {books}")
        books = books["company"]["id"]
        s, bound = self.sandbox("POST", "/sandbox/intuit/api/link/credentials",
                                {"company_id": books, "username": creds.username, "password": creds.password})
        eq(s, 200, f"link/credentials {bound}")
        offered = {a["internal_bank_account_id"]: a["id"] for a in bound["bank_feed_accounts"]}
        check(set(account_ids) <= set(offered), f"offered {sorted(offered)}, want {account_ids}")
        s, done = self.sandbox("POST", "/sandbox/intuit/api/link/complete", {
            "challenge": bound["challenge"], "bank_feed_account_ids": [offered[a] for a in account_ids],
            "start_date": midnight(start)})
        eq(s, 200, f"link/complete {done}")
        return books, offered

    def linked_quickbooks_company(self, name, accounts, start_days_back=3, books_name="Books"):
        """A company whose QuickBooks connection is linked, with these accounts (balance 100 each)
        connected and a feed start date `start_days_back` days ago."""
        r = self.new_company(name)
        results = self.sdk.source_accounts.create_batch(request={**r.where, "request_body": [
            v2_account(a, a, 100) for a in accounts]})
        eq({str(x.result.status_code) for x in results}, {"201"}, "all created")
        r.start = datetime.now(timezone.utc).date() - timedelta(days=start_days_back)
        r.books, r.feeds = self.link_in_quickbooks(r.where, accounts, r.start, books_name)
        return r

    def unlinked_xero_company(self):
        """Mapping Co: a Xero (gbol) connection with two pending GBP accounts, cur-1 and sav-1."""
        c = self.sdk.companies.create(request={"name": "Mapping Co"})
        conn = self.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "gbol"}})
        m = SimpleNamespace(company=c.id, where={"company_id": c.id, "connection_id": conn.id})
        for a in ["cur-1", "sav-1"]:
            self.sdk.source_accounts.create(request={**m.where, "request_body": {**v2_account(a, a, 10), "currency": "GBP"}})
        return m

    def link_in_xero_by_otp(self, m):
        """The connection's OTP drives Xero's redirect link: the FI configures its Xero bank feed,
        the customer connects a Xero sandbox company and picks cur-1. Sets m.books."""
        otp = self.sdk.source_accounts.generate_otp(request=m.where)
        check(otp.otp.startswith("bfotp_") and otp.expiry, f"otp {otp}")
        status, _ = self.http("PUT", "/versioned/bank_feeds/configs/XERO", {
            "display_name": "Codat SDK Bank", "login_url": "https://bank.example/login", "country_code": "GB"})
        eq(status, 200, "FI configuration for Xero")
        s, books = self.sandbox("POST", "/sandbox/xero/api/companies", {"name": "Mapping Books"})
        m.books = books["company"]["id"]
        s, connect = self.sandbox("POST", f"/sandbox/xero/api/companies/{m.books}/connect", {"org_id": self.org["id"]})
        eq(s, 200, f"connect {connect}")
        # The redirect back carries the binding `connect` gave this client (a link belongs to
        # whoever started it).
        s, bound = self.sandbox("POST", "/sandbox/xero/api/link/redirect", {
            "challenge": connect["challenge"], "otp": otp.otp, "browser_binding": connect["browser_binding"]})
        eq(s, 200, f"redirect {bound}")
        first = [a["id"] for a in bound["bank_feed_accounts"] if a["internal_bank_account_id"] == "cur-1"]
        s, done = self.sandbox("POST", "/sandbox/xero/api/link/complete",
                               {"challenge": connect["challenge"], "bank_feed_account_ids": first})
        eq(s, 200, f"complete {done}")
        return otp

    # --- pushes

    def push(self, where, account, txs, **query):
        return self.sdk.transactions.create(request={
            **where, "account_id": account, **query,
            "create_bank_transactions": {"account_id": account, "transactions": txs}})

    def settled(self, company, key):
        for _ in range(400):
            op = self.sdk.transactions.get_create_operation(request={"company_id": company, "push_operation_key": key})
            if enum_value(op.status) != "Pending":
                return op
            time.sleep(0.025)
        raise AssertionError(f"push {key} still Pending after 10 s")

    def pushed(self, where, account, txs, **query):
        """Pushes, checks the immediate answer, and returns the settled operation."""
        op = self.push(where, account, txs, **query)
        check(isinstance(op, shared.CreateBankTransactionsResponse), f"not CreateBankTransactionsResponse: {type(op)}")
        eq((enum_value(op.status), op.status_code), ("Pending", 202), "the push's first answer")
        return self.settled(where["company_id"], op.push_operation_key)
