#!/usr/bin/env python3
"""Crash test: kill -9 at random moments under concurrent pushes, then retry as an FI would.

Several clients push batches, each with its own Idempotency-Key, to the same accounts round
after round. At a random moment the hub is killed with SIGKILL and started again on the same
address (so as the same instance, which must free the job leases it held at once). A batch
whose answer was lost in the crash is retried with the same key and body until it is answered.
At the end every acknowledged transaction must be stored exactly once, after the job queue has
drained, and no retry may wait behind a dead instance's lease.

    run.py --hub-bin target/release/bankfeeds [--database-url postgres://…] [--rounds 10] [--seconds 120]

Without --database-url a temporary SQLite database is used. Standard library only.
"""

import functools
import os
import shutil
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from hubproc import (Hub, batch_body, call, create_accounts, create_connection,  # noqa: E402
                     create_org, free_port, round_options, run_then_kill, stored_ids, workspace)

TXNS = "/versioned/accounting/bank_feeds/transactions"


class Client:
    """One FI-side pusher for one account: what it has been told, and what it must retry."""

    def __init__(self, account, tag, posted_at):
        self.account, self.tag, self.posted_at = account, tag, posted_at
        self.acked = set()
        self.pending = None  # (idempotency key, ids) sent, answer not received
        self.n = 0
        self.slowest_retry = 0.0

    def send(self, hub, auth, token, key, ids):
        """True when the batch is acknowledged; False when the hub went away first."""
        try:
            status, answer, _ = call(hub, auth, "POST", f"{TXNS}?access_token={token}",
                                     batch_body(self.account, ids, self.posted_at),
                                     timeout=30, headers={"Idempotency-Key": key})
        except (OSError, ValueError):
            return False
        if status == 202:  # accepted as a job: acknowledged once the job succeeds
            job_id = answer["async_response"]["id"]
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    status, job, _ = call(hub, auth, "GET", f"/versioned/jobs/{job_id}", timeout=10)
                except (OSError, ValueError):
                    return False
                if job["job"]["status"] in ("success", "failure"):
                    status = job["job"]["response"]["status"]
                    answer = job["job"]["response"]["body"]
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"job {job_id} did not finish in 60 s")
        if status != 200:
            raise AssertionError(f"batch {key} answered {status}: {answer}")
        self.acked.update(ids)
        return True

    def run(self, hub, auth, token, stop, problems):
        try:
            if self.pending:
                started = time.time()
                if not self.send(hub, auth, token, *self.pending):
                    return
                self.slowest_retry = max(self.slowest_retry, time.time() - started)
                self.pending = None
            while not stop.is_set():
                ids = [f"{self.tag}-{self.n}-{i}" for i in range(25)]
                self.n += 1
                self.pending = (str(uuid.uuid4()), ids)
                if not self.send(hub, auth, token, *self.pending):
                    return
                self.pending = None
        except AssertionError as e:
            problems.append(str(e))


def main():
    p = round_options(rounds=10)
    p.add_argument("--seconds", type=float, default=120, help="stop starting rounds after this")
    p.add_argument("--clients", type=int, default=6)
    args = p.parse_args()
    hub_bin = os.path.abspath(args.hub_bin)

    work, url = workspace("crash-", args.database_url)
    log = os.path.join(work, "hub.log")
    port = free_port()  # the same address every time: the same instance, restarted
    started = time.time()
    try:
        auth = create_org(hub_bin, url, "Crash Test Bank")
        hub = Hub(hub_bin, url, port, log)
        token = create_connection(hub, auth)
        posted_at = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        clients = [Client(a, f"c{i}", posted_at)
                   for i, a in enumerate(create_accounts(hub, auth, token, args.clients, "crash"))]
        rounds = 0
        while rounds < args.rounds and time.time() - started < args.seconds:
            rounds += 1
            run_then_kill(hub, [functools.partial(c.run, hub, auth, token) for c in clients],
                          (0.5, 2.5))
            unanswered = sum(1 for c in clients if c.pending)
            print(f"crash {rounds}: {sum(len(c.acked) for c in clients)} acknowledged, "
                  f"{unanswered} batches unanswered, to retry", flush=True)
            hub = Hub(hub_bin, url, port, log)

        # Last life: retry what is still unanswered, let the queue drain, then count.
        stop, problems = threading.Event(), []
        stop.set()
        threads = [threading.Thread(target=c.run, args=(hub, auth, token, stop, problems))
                   for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if problems:
            sys.exit(f"FAIL: {problems[0]}")
        if any(c.pending for c in clients):
            sys.exit("FAIL: a retried batch was not answered")
        missing = doubled = 0
        for c in clients:
            ids = stored_ids(hub, auth, token, c.account)
            doubled += len(ids) - len(set(ids))
            missing += len(c.acked - set(ids))
        hub.stop()
        acked = sum(len(c.acked) for c in clients)
        slowest = max(c.slowest_retry for c in clients)
        print(f"{rounds} crashes, {acked} transactions acknowledged, {missing} missing, "
              f"{doubled} stored twice; slowest retry after a crash {slowest:.1f} s "
              f"({time.time() - started:.0f} s)")
        if missing or doubled:
            sys.exit("FAIL: an acknowledged transaction is missing or stored twice")
        if slowest > 8:
            sys.exit("FAIL: a retry waited behind the crashed instance's lease")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
