"""What the fault tests share: a hub as a child process, and the few API calls they make.

Standard library only, so the tests run wherever Python 3 does.
"""

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def round_options(rounds):
    """The options every kill -9 test takes (the hub binary, a database URL, how many rounds),
    in a parser the test may add its own to."""
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    p.add_argument("--database-url", help="default: a temporary SQLite database")
    p.add_argument("--rounds", type=int, default=rounds)
    return p


def workspace(prefix, database_url):
    """A new temporary directory, and the database to use: `database_url`, or SQLite in it."""
    work = tempfile.mkdtemp(prefix=prefix)
    return work, database_url or f"sqlite://{work}/hub.db"


def serve_in_background(server):
    """Runs an `http.server` stand-in on a daemon thread; its base URL."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def clean_up(hub, server, work):
    """A test's end, however it ended: its hub stopped (if one runs), its stand-in shut down,
    its workspace removed."""
    if hub is not None:
        hub.stop()
    server.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """`bankfeeds serve` on `database_url` and `port`, ready when constructed. With `tls`, a
    (certificate file, key file) pair, it serves HTTPS, and `url` is https."""

    def __init__(self, hub_bin, database_url, port, log_path, env=None, tls=None):
        full_env = dict(os.environ)
        for k in ("BANKFEEDS_CONFIG", "BANKFEEDS_LISTEN"):
            full_env.pop(k, None)
        full_env.update(
            BANKFEEDS_DATABASE_URL=database_url,
            BANKFEEDS_LOG_LEVEL="warn",
            BANKFEEDS_RATE_LIMIT_PER_10S="0",
        )
        full_env.update(env or {})
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self.log = open(log_path, "ab")
        args = [hub_bin, "serve", "--listen", f"127.0.0.1:{port}"]
        context = None
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
            context = ssl.create_default_context(cafile=tls[0])
        self.proc = subprocess.Popen(args, env=full_env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"the hub exited with {self.proc.returncode}; see {log_path}")
            try:
                urllib.request.urlopen(self.url + "/readyz", timeout=1, context=context).read()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("the hub did not become ready")

    def kill(self):
        """SIGKILL: no shutdown code runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def wait_for(read, done, seconds, every=0.2):
    """Calls read() every `every` s until done(answer) holds or `seconds` have passed; returns
    the last answer either way, for the caller's assertions."""
    deadline = time.time() + seconds
    while True:
        answer = read()
        if done(answer) or time.time() >= deadline:
            return answer
        time.sleep(every)


def call(hub, auth, method, path, body=None, timeout=30, headers=None):
    """(status, JSON body, response headers); HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(hub.url + path, data=data, method=method)
    req.add_header("authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    if data is not None:
        req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def create_org(hub_bin, database_url, name):
    """A new organisation through the CLI; its `client_id:client_secret`."""
    env = dict(os.environ, BANKFEEDS_DATABASE_URL=database_url)
    out = subprocess.run([hub_bin, "org", "create", "--name", name],
                         env=env, check=True, capture_output=True).stdout
    org = json.loads(out)
    return f"{org['client_id']}:{org['client_secret']}"


def create_connection(hub, auth):
    """A QuickBooks connection (its feeds take transactions from creation); its token."""
    status, conn, _ = call(hub, auth, "POST", "/versioned/connections/create",
                           {"platform": "INTUIT_BANK_FEEDS", "name": "Acme"})
    assert status == 200, (status, conn)
    return conn["connection"]["access_token"]


def create_accounts(hub, auth, token, n, tag):
    ids = []
    for i in range(n):
        status, acc, _ = call(hub, auth, "POST",
                              f"/versioned/accounting/bank_feeds/accounts?access_token={token}",
                              {"bank_feed_account": {"internal_bank_account_id": f"{tag}-{i}",
                                                     "bank_account_type": "bank", "currency_code": "USD",
                                                     "name": f"Account {tag}-{i}", "current_balance": 0}})
        assert status == 200, (status, acc)
        ids.append(acc["bank_feed_account"]["id"])
    return ids


def batch_body(account, ids, posted_at):
    return {"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": [
        {"transaction_id": t, "posted_at": posted_at, "amount": "-1.25",
         "description": "fault test", "debit_credit_memo": "DEBIT"} for t in ids]}}


def stored_ids(hub, auth, token, account):
    """Every transaction id stored for the account, in feed order; [] if the account is gone."""
    ids, cursor = [], None
    while True:
        q = f"access_token={token}&bank_feed_account_id={account}&limit=1000"
        if cursor:
            q += f"&cursor={cursor}"
        status, page, _ = call(hub, auth, "GET", f"/versioned/accounting/bank_feeds/transactions?{q}")
        if status == 404 and not ids:
            return []
        assert status == 200, (status, page)
        ids += [t["transaction_id"] for t in page["bank_feed_transactions"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def run_then_kill(hub, workers, seconds):
    """Runs each `worker(stop, problems)` in a thread, kills the hub with SIGKILL at a random
    moment within `seconds` (a (low, high) pair), then waits for the workers; the run fails on
    the first problem a worker reported."""
    stop, problems = threading.Event(), []
    threads = [threading.Thread(target=w, args=(stop, problems)) for w in workers]
    for t in threads:
        t.start()
    time.sleep(random.uniform(*seconds))
    hub.kill()
    stop.set()
    for t in threads:
        t.join()
    if problems:
        sys.exit(f"FAIL: {problems[0]}")
