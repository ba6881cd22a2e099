#!/usr/bin/env python3
"""Power-cut test: does every batch the hub acknowledged survive the loss of unsynced writes?

Each round starts the hub (SQLite) under the powercut shim (shim.c), pushes batches from
several clients at once, and at a random moment kills the hub with SIGKILL. It then "cuts the
power": every file in the data directory is replaced by its durable image (what fsync made
durable; anything written but not synced is gone) and SQLite's shared-memory WAL index is
deleted. The hub is started again, without the shim, on what was kept, and every transaction
whose batch was answered 200 must be there, exactly once.

    run.py --hub-bin target/release/bankfeeds [--rounds 8] [--seconds 120] [--synchronous normal --expect-loss]

With --expect-loss the test passes only if some acknowledged transaction was lost: run with
BANKFEEDS_SQLITE_SYNCHRONOUS=normal it shows the test can fail. Standard library only.
"""

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """One hub process on the data directory, optionally under the shim."""

    def __init__(self, args, data, shadow, port, shim=None):
        env = dict(os.environ)
        for k in ("BANKFEEDS_CONFIG", "BANKFEEDS_LISTEN"):
            env.pop(k, None)
        env.update(
            BANKFEEDS_DATABASE_URL=f"sqlite://{data}/hub.db",
            BANKFEEDS_LOG_LEVEL="warn",
            BANKFEEDS_RATE_LIMIT_PER_10S="0",
            BANKFEEDS_SQLITE_SYNCHRONOUS=args.synchronous,
        )
        if shim:
            env.update(LD_PRELOAD=shim, POWERCUT_DIR=data, POWERCUT_SHADOW=shadow)
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(os.path.dirname(data), "hub.log"), "ab")
        self.proc = subprocess.Popen(
            [args.hub_bin, "serve", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=self.log, stderr=self.log,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"the hub exited with {self.proc.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(self.url + "/readyz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("the hub did not become ready")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def call(hub, auth, method, path, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(hub.url + path, data=data, method=method)
    req.add_header("authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def setup(args, data, shadow):
    """An organisation and a QuickBooks connection (no shim)."""
    env = dict(os.environ, BANKFEEDS_DATABASE_URL=f"sqlite://{data}/hub.db")
    out = subprocess.run([args.hub_bin, "org", "create", "--name", "Power Cut Bank"],
                         env=env, check=True, capture_output=True).stdout
    org = json.loads(out)
    auth = f"{org['client_id']}:{org['client_secret']}"
    hub = Hub(args, data, shadow, free_port())
    status, conn = call(hub, auth, "POST", "/versioned/connections/create",
                        {"platform": "INTUIT_BANK_FEEDS", "name": "Acme"})
    assert status == 200, (status, conn)
    hub.stop()
    return auth, conn["connection"]["access_token"]


def new_accounts(hub, auth, token, n, tag):
    """Fresh accounts for a round. A batch the killed hub was applying stays leased to it for a
    while (issue 12, item 9), so a round that reused its accounts would only queue behind it."""
    accounts = []
    for i in range(n):
        status, acc = call(hub, auth, "POST",
                           f"/versioned/accounting/bank_feeds/accounts?access_token={token}",
                           {"bank_feed_account": {"internal_bank_account_id": f"pc-{tag}-{i}",
                                                  "bank_account_type": "bank", "currency_code": "USD",
                                                  "name": f"Account {tag}-{i}", "current_balance": 0}})
        assert status == 200, (status, acc)
        accounts.append(acc["bank_feed_account"]["id"])
    return accounts


def push_until_killed(hub, auth, token, account, tag, posted_at, acked, stop, problems):
    """Pushes batches for one account; records the ids of each batch answered 200 (a 202, the
    batch queued as a job because it waited too long, is not counted)."""
    n = 0
    while not stop.is_set():
        ids = [f"{tag}-{n}-{i}" for i in range(25)]
        n += 1
        body = {"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": [
            {"transaction_id": t, "posted_at": posted_at, "amount": "-1.25",
             "description": "power cut test", "debit_credit_memo": "DEBIT"} for t in ids]}}
        try:
            status, answer = call(hub, auth, "POST",
                             f"/versioned/accounting/bank_feeds/transactions?access_token={token}",
                             body, timeout=10)
        except (OSError, ValueError):
            return  # the hub is gone: this batch was never acknowledged
        if status == 200:
            acked[account].update(ids)
        elif status != 202:
            problems.append(f"a batch was answered {status}: {answer}")
            return


def stored_ids(hub, auth, token, account):
    ids, cursor = [], None
    while True:
        q = f"access_token={token}&bank_feed_account_id={account}&limit=1000"
        if cursor:
            q += f"&cursor={cursor}"
        status, page = call(hub, auth, "GET", f"/versioned/accounting/bank_feeds/transactions?{q}")
        if status == 404 and not ids:
            return []  # the account itself was lost (only ever with an unsafe setting)
        assert status == 200, (status, page)
        ids += [t["transaction_id"] for t in page["bank_feed_transactions"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def power_cut(data, shadow):
    """Leaves in `data` only what was made durable: each file's image, no WAL index."""
    for name in os.listdir(shadow):
        shutil.copyfile(os.path.join(shadow, name), os.path.join(data, name))
        os.remove(os.path.join(shadow, name))
    for name in os.listdir(data):
        if name.endswith("-shm"):
            os.remove(os.path.join(data, name))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--seconds", type=float, default=150, help="stop starting rounds after this")
    p.add_argument("--clients", type=int, default=6)
    p.add_argument("--synchronous", default="full", choices=["full", "normal"])
    p.add_argument("--expect-loss", action="store_true")
    args = p.parse_args()
    args.hub_bin = os.path.abspath(args.hub_bin)

    work = tempfile.mkdtemp(prefix="powercut-")
    shim = os.path.join(work, "powercut.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, os.path.join(HERE, "shim.c"),
                    "-ldl", "-lpthread"], check=True)
    data, shadow = os.path.join(work, "data"), os.path.join(work, "shadow")
    os.makedirs(data)
    os.makedirs(shadow)
    started = time.time()
    try:
        auth, token = setup(args, data, shadow)
        posted_at = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        acked = {}
        lost_total, acked_total, rounds = 0, 0, 0
        for r in range(args.rounds):
            if time.time() - started > args.seconds:
                break
            rounds += 1
            hub = Hub(args, data, shadow, free_port(), shim=shim)
            accounts = new_accounts(hub, auth, token, args.clients, f"r{r}")
            acked.update({a: set() for a in accounts})
            stop, problems = threading.Event(), []
            threads = [threading.Thread(target=push_until_killed,
                                        args=(hub, auth, token, a, f"r{r}c{i}", posted_at, acked,
                                              stop, problems))
                       for i, a in enumerate(accounts)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.8, 3.0))
            hub.kill()
            stop.set()
            for t in threads:
                t.join()
            if problems:
                sys.exit(f"FAIL: {problems[0]}")
            power_cut(data, shadow)

            hub = Hub(args, data, shadow, free_port())
            lost, doubled = 0, 0
            for a in acked:
                ids = stored_ids(hub, auth, token, a)
                doubled += len(ids) - len(set(ids))
                lost += len(acked[a] - set(ids))
                # What was lost is gone for good: count it once, check the rest from here on.
                acked[a] &= set(ids)
            hub.stop()
            n_acked = sum(len(s) for s in acked.values())
            print(f"round {r + 1}: {n_acked} acknowledged so far, {lost} lost, {doubled} doubled",
                  flush=True)
            if doubled:
                sys.exit("FAIL: a transaction is stored twice")
            lost_total += lost
            acked_total = n_acked
            if args.expect_loss and lost:
                break  # shown: the test catches a loss under this setting
        print(f"{rounds} power cuts, {acked_total} transactions acknowledged, {lost_total} lost "
              f"(synchronous={args.synchronous}, {time.time() - started:.0f} s)")
        if args.expect_loss and lost_total == 0:
            sys.exit("FAIL: expected acknowledged transactions to be lost with this setting; "
                     "the test did not catch any")
        if not args.expect_loss and lost_total:
            sys.exit("FAIL: acknowledged transactions were lost")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
