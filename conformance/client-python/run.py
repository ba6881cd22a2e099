"""A client generated from the hub's own /openapi.json, through every operation.

openapi-python-client (pinned) generates a Python client from the document the hub serves; this
script then drives a release hub with it: connections, FI configuration, accounts, sync and async
pushes, jobs, transactions, OTPs, and refusals of each kind. Every answer must be one the
document declares for that operation and parse into its model (`raise_on_unexpected_status`, and
`parsed` must be the declared type); an answer the client cannot parse fails the run.

    python3 conformance/client-python/run.py --hub-bin target/release/bankfeeds \
        --generator /path/to/venv/bin/openapi-python-client
"""

import argparse
import base64
import datetime
import importlib
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "faults"))
import hubproc  # noqa: E402

CHECKED = []


def expect(name, resp, status, model):
    """The answer has this status and parses into this model (by class name)."""
    got = type(resp.parsed).__name__
    if resp.status_code != status or got != model:
        sys.exit(f"{name}: expected {status} {model}, got {resp.status_code} {got}: "
                 f"{resp.content[:400]!r}")
    CHECKED.append(name)
    return resp.parsed


def refused(name, resp, status, code):
    err = expect(name, resp, status, "ErrorOut")
    if err.error_code != code:
        sys.exit(f"{name}: expected {code}, got {err.error_code}: {err.error_message}")
    return err


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    p.add_argument("--generator", required=True, help="the openapi-python-client executable")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite://{tmp}/hub.db"
        subprocess.run([args.hub_bin, "migrate"], check=True, capture_output=True,
                       env=dict(os.environ, BANKFEEDS_DATABASE_URL=db))
        hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), f"{tmp}/hub.log")
        try:
            doc = pathlib.Path(tmp) / "openapi.json"
            doc.write_bytes(urllib.request.urlopen(hub.url + "/openapi.json").read())
            config = pathlib.Path(tmp) / "generator.yaml"
            config.write_text("post_hooks: []\n")  # no formatter on this machine; not needed
            subprocess.run([args.generator, "generate", "--path", str(doc), "--meta", "none",
                            "--config", str(config), "--output-path", f"{tmp}/gen/bankfeeds_client"],
                           check=True, capture_output=True)
            sys.path.insert(0, f"{tmp}/gen")
            auth = hubproc.create_org(args.hub_bin, db, "Generated Client Bank")
            drive(hub.url, auth)
        finally:
            hub.stop()
    print(f"generated client: {len(CHECKED)} calls, every answer declared and parsed")


def drive(base, auth):
    c = importlib.import_module("bankfeeds_client")
    api = lambda path: importlib.import_module(f"bankfeeds_client.api.{path}")  # noqa: E731
    m = importlib.import_module("bankfeeds_client.models")
    token = base64.b64encode(auth.encode()).decode()
    client = c.AuthenticatedClient(base_url=base, token=token, prefix="Basic",
                                   raise_on_unexpected_status=True)
    wrong = c.AuthenticatedClient(base_url=base, token=base64.b64encode(b"bfci_x:nope").decode(),
                                  prefix="Basic", raise_on_unexpected_status=True)

    # Health.
    expect("healthz", api("health.healthz").sync_detailed(client=client), 200, "HealthOut")
    expect("readyz", api("health.readyz").sync_detailed(client=client), 200, "ReadyOut")

    # FI configuration.
    cfg = m.FiConfigIn.from_dict({"display_name": "Generated Bank", "login_url": "https://bank.example/login",
                                  "country_code": "GB"})
    xero = m.Platform("XERO")
    expect("put config", api("bank_feeds_configuration.put_fi_config").sync_detailed(xero, client=client, body=cfg),
           200, "FiConfigEnvelopeOut")
    expect("get config", api("bank_feeds_configuration.get_fi_config").sync_detailed(xero, client=client),
           200, "FiConfigEnvelopeOut")
    expect("list configs", api("bank_feeds_configuration.list_fi_configs").sync_detailed(client=client),
           200, "FiConfigListOut")
    bad = m.FiConfigIn.from_dict({"display_name": "", "login_url": "https://bank.example/login",
                                  "country_code": "GB"})
    refused("put config, blank name", api("bank_feeds_configuration.put_fi_config").sync_detailed(
        xero, client=client, body=bad), 400, "EMPTY_FIELD")
    expect("delete config", api("bank_feeds_configuration.delete_fi_config").sync_detailed(xero, client=client),
           200, "FiConfigDeletedOut")
    refused("get deleted config", api("bank_feeds_configuration.get_fi_config").sync_detailed(xero, client=client),
            410, "CONFIG_NOT_FOUND")

    # Connections.
    connections = lambda op: importlib.import_module(f"bankfeeds_client.api.connections.{op}")  # noqa: E731
    created = expect("create connection", connections("create_connection").sync_detailed(
        client=client, body=m.ConnectionIn.from_dict({"platform": "INTUIT_BANK_FEEDS", "name": "Acme"})),
        200, "ConnectionCreateOut")
    conn = created.connection
    at = conn.access_token
    expect("list connections", connections("list_connections").sync_detailed(client=client, limit=1),
           200, "ConnectionListOut")
    expect("connection by token", connections("get_connection").sync_detailed(client=client, access_token=at),
           200, "ConnectionGetOut")
    expect("connection status", connections("get_connection_status").sync_detailed(client=client, access_token=at),
           200, "ConnectionStatusOut")
    refused("unknown token", connections("get_connection").sync_detailed(client=client, access_token="bfat_nope"),
            401, "INVALID_ACCESS_TOKEN")
    refused("wrong secret", connections("list_connections").sync_detailed(client=wrong),
            401, "INVALID_CREDENTIALS")

    # Accounts.
    accounts = lambda op: importlib.import_module(f"bankfeeds_client.api.bank_feed_accounts.{op}")  # noqa: E731
    body = m.AccountCreateIn.from_dict({"bank_feed_account": {
        "internal_bank_account_id": "chk-1", "bank_account_type": "bank", "currency_code": "USD",
        "name": "Checking", "current_balance": "1000.00"}})
    account = expect("create account", accounts("create_account").sync_detailed(
        client=client, body=body, access_token=at), 200, "AccountEnvelopeOut").bank_feed_account
    refused("create duplicate account", accounts("create_account").sync_detailed(
        client=client, body=body, access_token=at), 409, "BANK_FEED_ACCOUNT_EXISTS")
    expect("list accounts", accounts("list_accounts").sync_detailed(client=client, access_token=at, limit=10),
           200, "AccountListOut")
    expect("get account", accounts("get_account").sync_detailed(account.id, client=client, access_token=at),
           200, "AccountGetOut")
    patch = m.AccountPatchIn.from_dict({"bank_feed_account": {"name": "Main checking"}})
    patched = expect("patch account", accounts("update_account").sync_detailed(
        account.id, client=client, body=patch, access_token=at), 200, "AccountEnvelopeOut")
    if patched.bank_feed_account.name != "Main checking":
        sys.exit(f"patch account: name not changed: {patched.bank_feed_account.name}")
    later = m.AccountCreateIn.from_dict({"response_mode": "async", "bank_feed_account": {
        "internal_bank_account_id": "chk-2", "bank_account_type": "bank", "currency_code": "USD"}})
    expect("create account async", accounts("create_account").sync_detailed(
        client=client, body=later, access_token=at), 200, "AsyncEnvelopeOut")
    refused("get unknown account", accounts("get_account").sync_detailed(
        uuid.uuid4(), client=client, access_token=at), 410, "BANK_FEED_ACCOUNT_NOT_FOUND")

    # Pushes: synchronous, then asynchronous (the job), then refused.
    pushes = importlib.import_module("bankfeeds_client.api.bank_feed_transactions.create_transactions")
    now = datetime.datetime.now(datetime.timezone.utc)

    def batch(ids, days, mode):
        return m.TransactionsCreateIn.from_dict({"response_mode": mode, "bank_feed_transactions": {
            "bank_feed_account_id": str(account.id),
            "transactions": [{"transaction_id": t, "posted_at": (now - datetime.timedelta(days=days)).isoformat(),
                              "amount": "-12.34", "description": "coffee", "debit_credit_memo": "DEBIT"}
                             for t in ids]}})
    stored = expect("push sync", pushes.sync_detailed(client=client, body=batch(["t1", "t2"], 3, "prefer_sync"),
                                                       access_token=at), 200, "TransactionsCreatedOut")
    if [t.transaction_id for t in stored.bank_feed_transactions] != ["t1", "t2"]:
        sys.exit(f"push sync: {stored}")
    queued = expect("push async", pushes.sync_detailed(client=client, body=batch(["t3"], 2, "async"),
                                                        access_token=at), 200, "TransactionsQueuedOut")
    jobs = importlib.import_module("bankfeeds_client.api.jobs.get_job")
    for _ in range(100):
        job = expect("get job", jobs.sync_detailed(uuid.UUID(queued.async_response.id), client=client),
                     200, "JobGetOut").job
        if str(job.status) in ("success", "failure", "JobStatus.SUCCESS", "JobStatus.FAILURE") \
                or getattr(job.status, "value", None) in ("success", "failure"):
            break
        time.sleep(0.1)
    else:
        sys.exit("the async push's job did not finish")
    refused("push older than stored", pushes.sync_detailed(client=client, body=batch(["t0"], 30, "prefer_sync"),
                                                            access_token=at), 400, "OLDER_THAN_STORED")
    refused("get unknown job", jobs.sync_detailed(uuid.uuid4(), client=client), 410, "JOB_NOT_FOUND")

    # Transactions.
    txs = lambda op: importlib.import_module(f"bankfeeds_client.api.bank_feed_transactions.{op}")  # noqa: E731
    listed = expect("list transactions", txs("list_transactions").sync_detailed(
        client=client, access_token=at, bank_feed_account_id=str(account.id), limit=10), 200, "TransactionListOut")
    ids = sorted(t.transaction_id for t in listed.bank_feed_transactions)
    if ids != ["t1", "t2", "t3"]:
        sys.exit(f"list transactions: {ids}")
    expect("get transaction", txs("get_transaction").sync_detailed(
        listed.bank_feed_transactions[0].id, client=client, access_token=at), 200, "TransactionGetOut")

    # The link flow's OTP.
    otp = importlib.import_module("bankfeeds_client.api.link.create_otp")
    expect("create otp", otp.sync_detailed(client=client, access_token=at), 200, "OtpEnvelopeOut")

    # Delete the account, rotate the token, delete the connection.
    expect("delete account", accounts("delete_account").sync_detailed(account.id, client=client, access_token=at),
           200, "AccountDeletedOut")
    rotated = expect("rotate token", connections("rotate_access_token").sync_detailed(conn.id, client=client),
                     200, "ConnectionCreateOut")
    refused("old token after rotation", connections("get_connection").sync_detailed(client=client, access_token=at),
            401, "INVALID_ACCESS_TOKEN")
    expect("delete connection", connections("delete_connection").sync_detailed(conn.id, client=client),
           200, "DeletedOut")
    refused("deleted connection's token", connections("get_connection").sync_detailed(
        client=client, access_token=rotated.connection.access_token), 401, "CONNECTION_DELETED")


if __name__ == "__main__":
    main()
