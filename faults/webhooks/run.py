"""kill -9 of the hub while it delivers webhooks, repeated, loses no event (issue 15).

    python run.py --hub-bin target/release/bankfeeds [--database-url postgres://…] [--rounds 5]

A receiver on 127.0.0.1 records each delivery's `webhook-id` (answering 500 to one in ten, so
retries are under way too). Each round starts the hub (same instance id, so it frees what its
killed predecessor held at once), creates accounts (each an event), and kills it with SIGKILL
after a random moment. Then a last hub runs until the receiver has every event of the
organisation's feed: every event delivered at least once; repeats are allowed (dropped by id).
Standard library only; writes only under a temporary directory, removed afterwards.
"""

import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hubproc  # noqa: E402

GOT = []
LOCK = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        fail = random.random() < 0.1
        if not fail:
            with LOCK:
                GOT.append(self.headers.get("webhook-id"))
        self.send_response(500 if fail else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    args = hubproc.round_options(rounds=5).parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    url = hubproc.serve_in_background(server) + "/hook"
    work, db = hubproc.workspace("bf-webhooks-crash-", args.database_url)
    env = {"BANKFEEDS_WEBHOOKS_ALLOW_PRIVATE": "true", "BANKFEEDS_WEBHOOKS_RETRY_SCHEDULE": "0,0,0,0,0,0,0,0",
           "BANKFEEDS_WEBHOOKS_POLL_MS": "50", "BANKFEEDS_INSTANCE_ID": "webhooks-crash"}
    log = f"{work}/hub.log"
    hub = None
    try:
        hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), log, env=env)
        auth = hubproc.create_org(args.hub_bin, db, f"Crash Bank {random.randrange(10**9)}")
        status, hook, _ = hubproc.call(hub, auth, "POST", "/versioned/webhooks", {"url": url})
        assert status == 201, (status, hook)
        token = hubproc.create_connection(hub, auth)
        for r in range(args.rounds):
            if r:
                hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), log, env=env)
            stop = time.time() + random.uniform(0.2, 1.0)
            n = 0
            while time.time() < stop and n < 20:
                hubproc.create_accounts(hub, auth, token, 1, f"r{r}-{n}")
                n += 1
                time.sleep(0.02)
            hub.kill()
            hub = None
        hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), log, env=env)
        want, after = set(), ""
        while True:
            status, page, _ = hubproc.call(hub, auth, "GET", f"/versioned/events?limit=500&after={after}")
            assert status == 200, (status, page)
            want |= {e["id"] for e in page["events"]}
            after = page["next_cursor"]
            if not page["has_more"]:
                break
        def undelivered():
            with LOCK:
                return want - set(GOT)
        missing = hubproc.wait_for(undelivered, lambda m: not m, 90)
        assert not missing, f"{len(missing)} of {len(want)} events never delivered: {sorted(missing)[:10]}"
        print(f"webhooks crash: {args.rounds} kill -9 rounds, {len(want)} events, each delivered "
              f"({len(GOT)} deliveries, {len(GOT) - len(set(GOT))} repeats)")
    finally:
        hubproc.clean_up(hub, server, work)


if __name__ == "__main__":
    main()
