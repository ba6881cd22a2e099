"""Webhook deliveries from a running release hub, verified by the Standard Webhooks reference
library (pinned in requirements.txt), not by our code.

    python run.py --hub-bin target/release/bankfeeds

Starts a receiver on 127.0.0.1 (so the hub runs with BANKFEEDS_WEBHOOKS_ALLOW_PRIVATE=true) and
the hub on a temporary SQLite database, registers an endpoint for every event type, creates a
connection and accounts and pushes a batch to each. Every delivery must verify with
`standardwebhooks.Webhook(secret).verify(body, headers)`, carry `{type, timestamp, data}`, and
every event of the organisation's feed must arrive (ids matching the feed's). The receiver
answers the first delivery with 500, so a retry is checked too. Writes only under a temporary
directory, removed afterwards.
"""

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "faults"))
import hubproc  # noqa: E402

from standardwebhooks.webhooks import Webhook  # noqa: E402

SECRET = {}
RECEIVED = []  # (webhook-id, payload)
FAILURES = []
LOCK = threading.Lock()
FIRST = {"failed": False}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            if not FIRST["failed"]:
                FIRST["failed"] = True
                self.send_response(500)
                self.end_headers()
                return
            try:
                payload = Webhook(SECRET["value"]).verify(body, headers)
                assert set(payload) == {"type", "timestamp", "data"}, payload
                RECEIVED.append((headers["webhook-id"], payload))
            except Exception as e:  # noqa: BLE001 (any failure is the finding)
                FAILURES.append(f"{headers.get('webhook-id')}: {e!r}")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    work = tempfile.mkdtemp(prefix="bf-webhooks-")
    db = f"sqlite://{work}/hub.db"
    env = {"BANKFEEDS_WEBHOOKS_ALLOW_PRIVATE": "true", "BANKFEEDS_WEBHOOKS_RETRY_SCHEDULE": "1,1,1",
           "BANKFEEDS_WEBHOOKS_POLL_MS": "100"}
    hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), f"{work}/hub.log", env=env)
    try:
        auth = hubproc.create_org(args.hub_bin, db, "Demo Bank")
        status, hook, _ = hubproc.call(hub, auth, "POST", "/versioned/webhooks", {"url": url})
        assert status == 201, (status, hook)
        SECRET["value"] = hook["webhook"]["secret"]
        token = hubproc.create_connection(hub, auth)
        accounts = hubproc.create_accounts(hub, auth, token, 3, "wh")
        for i, account in enumerate(accounts):
            body = hubproc.batch_body(account, [f"t{i}-{n}" for n in range(5)], "2020-01-01T00:00:00Z")
            status, r, _ = hubproc.call(hub, auth, "POST",
                                        f"/versioned/accounting/bank_feeds/transactions?access_token={token}", body)
            assert status in (200, 202), (status, r)
        status, feed, _ = hubproc.call(hub, auth, "GET", "/versioned/events?limit=500")
        assert status == 200, (status, feed)
        want = [e["id"] for e in feed["events"]]
        assert len(want) >= 7, want
        deadline = time.time() + 60
        while time.time() < deadline:
            with LOCK:
                got = [i for i, _ in RECEIVED]
            if len(set(got)) >= len(want) or FAILURES:
                break
            time.sleep(0.1)
        assert not FAILURES, FAILURES
        missing = set(want) - set(got)
        assert not missing, f"never delivered: {sorted(missing)}"
        types = {e["id"]: e["type"] for e in feed["events"]}
        for wid, payload in RECEIVED:
            assert payload["type"] == types.get(wid, payload["type"]), (wid, payload)
        print(f"webhooks: {len(RECEIVED)} deliveries verified by standardwebhooks "
              f"({len(want)} events, one retried after a 500)")
    finally:
        hub.stop()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
