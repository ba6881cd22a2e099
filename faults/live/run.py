"""kill -9 of the hub while it delivers live Xero statements, repeated: no statement lost or
sent twice (issue 16).

    python run.py --hub-bin target/release/bankfeeds [--database-url postgres://…] [--rounds 5]

A stand-in Xero on 127.0.0.1 (identity server with PKCE, /connections, feed connections,
statements) keeps what it accepts: a statement by its Idempotency-Key (a repeat is answered
`duplicate-statement`, as Xero does), each one checked to tie out and to open where the last
closed. The feed is linked through the consent pages as a browser would. Each round starts the
hub (same instance id, so it frees what its killed predecessor held at once), pushes a batch
with a tying balance, and kills it with SIGKILL at a random moment while it delivers. A last hub
then runs until every pushed transaction is in an accepted statement: each exactly once, in
order, the chain tying out from the first balance to the last.
Standard library only; writes only under a temporary directory, removed afterwards.
"""

import base64
import hashlib
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hubproc  # noqa: E402

LOCK = threading.Lock()
CODES = {}  # authorization code -> PKCE challenge
FEEDS = {}  # feed connection id -> accountToken
ACCEPTED = []  # (idempotency key, statement)
KEYS = set()
CLOSING = {}  # feed connection id -> last closing balance
PROBLEMS = []
POSTS = [0]


def signed(b):
    amount = Decimal(str(b["amount"]))
    return amount if b["creditDebitIndicator"] == "CREDIT" else -amount


class Xero(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_GET(self):  # noqa: N802
        if self.path == "/connections":
            return self.answer(200, [{"id": "c-1", "tenantId": "tenant-a",
                                      "tenantType": "ORGANISATION", "tenantName": "Alpha Ltd"}])
        m = re.fullmatch(r"/api/FeedConnections/([^/]+)", self.path)
        if m and m.group(1) in FEEDS:
            return self.answer(200, {"id": m.group(1), "accountToken": FEEDS[m.group(1)]})
        return self.answer(404, {"type": "not-found"})

    def do_POST(self):  # noqa: N802
        raw = self.body()
        if self.path == "/identity/connect/token":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            if form.get("grant_type") == "authorization_code":
                with LOCK:
                    challenge = CODES.pop(form.get("code"), None)
                verifier = form.get("code_verifier", "").encode()
                want = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
                if challenge is None or want.decode() != challenge:
                    return self.answer(400, {"error": "invalid_grant"})
            n = uuid.uuid4().hex
            return self.answer(200, {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}",
                                     "expires_in": 1800, "token_type": "Bearer"})
        items = json.loads(raw)["items"]
        if self.path == "/api/FeedConnections":
            out = []
            with LOCK:
                for item in items:
                    fc = str(uuid.uuid4())
                    FEEDS[fc] = item["accountToken"]
                    out.append({"id": fc, "accountToken": item["accountToken"], "status": "PENDING"})
            return self.answer(202, {"items": out})
        if self.path == "/api/Statements":
            key = self.headers.get("idempotency-key")
            s = items[0]
            # Slow enough that a kill often lands while a statement is in flight.
            time.sleep(random.uniform(0, 0.3))
            with LOCK:
                POSTS[0] += 1
                if key in KEYS:
                    return self.answer(409, {"type": "duplicate-statement", "status": 409})
                start, end = signed(s["startBalance"]), signed(s["endBalance"])
                lines = sum((signed(line) for line in s["statementLines"]), Decimal(0))
                if start + lines != end:
                    PROBLEMS.append(f"statement {key} does not tie out")
                fc = s["feedConnectionId"]
                if fc in CLOSING and CLOSING[fc] != start:
                    PROBLEMS.append(f"statement {key} opens at {start}, the last closed at {CLOSING[fc]}")
                CLOSING[fc] = end
                KEYS.add(key)
                ACCEPTED.append((key, s))
            return self.answer(202, {"items": [{"id": str(uuid.uuid4()), "status": "DELIVERED"}]})
        return self.answer(404, {"type": "not-found"})

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A hub killed mid-answer breaks the pipe: that is the test, not a failure.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Browser:
    """Keeps the hub's cookies; follows no redirect."""

    def __init__(self, hub):
        self.hub = urllib.parse.urlparse(hub.url)
        self.cookies = {}

    def go(self, method, path, form=None):
        conn = http.client.HTTPConnection(self.hub.hostname, self.hub.port, timeout=30)
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["content-type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, v = value.split(";", 1)[0].split("=", 1)
                if v:
                    self.cookies[k] = v
                else:
                    self.cookies.pop(k, None)
        page = r.read().decode()
        return r.status, r.getheader("location"), page


def field(page, name):
    return re.search(f'name="{name}" value="([^"]*)"', page).group(1)


def link(hub, connection, account):
    """The consent pages, as the customer's browser goes through them."""
    b = Browser(hub)
    _, _, page = b.go("GET", f"/link/connections/{connection}")
    status, authorize, _ = b.go("POST", f"/link/connections/{connection}/xero", {"csrf": field(page, "csrf")})
    assert status == 303, status
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(authorize).query))
    assert q["code_challenge_method"] == "S256" and q["scope"] == "offline_access bankfeeds", q
    with LOCK:
        CODES["code-1"] = q["code_challenge"]
    status, location, page = b.go("GET", f"/link/xero/live/callback?code=code-1&state={q['state']}")
    assert status == 303, (status, page)
    _, _, page = b.go("GET", location)
    status, location, _ = b.go("POST", location, {"csrf": field(page, "csrf"), "tenant": "tenant-a"})
    assert status == 303, status
    _, _, page = b.go("GET", location)
    status, _, page = b.go("POST", location, {"csrf": field(page, "csrf"), "account": account,
                                              "start_date": field(page, "start_date")})
    assert status == 200 and "xero-connected" in page, (status, page)


def delivered():
    """The transaction ids in the statements the stand-in accepted, in order."""
    with LOCK:
        return [line["transactionId"] for _, s in ACCEPTED for line in s["statementLines"]]


def main():
    args = hubproc.round_options(rounds=5).parse_args()
    server = Server(("127.0.0.1", 0), Xero)
    xero = hubproc.serve_in_background(server)
    work, db = hubproc.workspace("bf-live-crash-", args.database_url)
    key = subprocess.run([args.hub_bin, "secrets-key"], check=True, capture_output=True,
                         text=True).stdout.strip()
    env = {"BANKFEEDS_SECRETS_KEY": key, "BANKFEEDS_INSTANCE_ID": "live-crash",
           "BANKFEEDS_XERO_IDENTITY_URL": f"{xero}/identity", "BANKFEEDS_XERO_API_URL": f"{xero}/api",
           "BANKFEEDS_XERO_CONNECTIONS_URL": xero}
    log = f"{work}/hub.log"
    hub = None
    try:
        hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), log, env=env)
        auth = hubproc.create_org(args.hub_bin, db, f"Live Crash Bank {random.randrange(10**9)}")
        status, out, _ = hubproc.call(hub, auth, "PUT", "/versioned/bank_feeds/configs/XERO/connector",
                                      {"mode": "live", "client_id": "APP", "client_secret": "app-secret"})
        assert status == 200, (status, out)
        status, conn, _ = hubproc.call(hub, auth, "POST", "/versioned/connections/create",
                                       {"platform": "XERO", "name": "Acme"})
        assert status == 200, (status, conn)
        token, connection = conn["connection"]["access_token"], conn["connection"]["id"]
        [account] = hubproc.create_accounts(hub, auth, token, 1, "live")
        link(hub, connection, account)
        balance, pushed = Decimal(0), []
        for r in range(args.rounds + 1):
            if hub is None:
                hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), log, env=env)
            ids = [f"r{r}-t{i}" for i in range(random.randint(1, 30))]
            balance += Decimal("-1.25") * len(ids)
            body = hubproc.batch_body(account, ids, "2026-12-01T12:00:00Z")
            body["bank_feed_transactions"]["current_balance"] = str(balance)
            status, out, _ = hubproc.call(
                hub, auth, "POST", f"/versioned/accounting/bank_feeds/transactions?access_token={token}",
                body, headers={"idempotency-key": f"round-{r}"})
            assert status == 200, (status, out)
            pushed += ids
            if r == args.rounds:
                break
            time.sleep(random.uniform(0, 2.5))
            hub.kill()
            hub = None
        hubproc.wait_for(delivered, lambda got: len(got) >= len(pushed), 120)
        time.sleep(1)
        got = delivered()
        with LOCK:
            problems = list(PROBLEMS)
        assert not problems, problems[0]
        assert got == pushed, f"{len(pushed)} pushed, {len(got)} delivered; first difference at " \
            f"{next((i for i, (a, b) in enumerate(zip(got, pushed)) if a != b), min(len(got), len(pushed)))}"
        assert CLOSING and list(CLOSING.values())[0] == balance, (CLOSING, balance)
        print(f"live Xero crash: {args.rounds} kill -9 rounds, {len(pushed)} transactions in "
              f"{len(ACCEPTED)} statements, each delivered once ({POSTS[0]} POSTs)")
    finally:
        hubproc.clean_up(hub, server, work)


if __name__ == "__main__":
    main()
