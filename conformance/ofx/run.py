"""OFX Direct Connect against real clients (pinned in requirements.txt; ofxdump and aqbanking-cli
from Debian).

    python run.py --hub-bin target/release/bankfeeds --ofxget VENV/bin/ofxget

Starts the hub on a temporary SQLite database, pushes a checking account's and a card's
transactions through the Rutter door, issues OFX credentials, then runs ofxget `prof`,
`acctinfo`, `stmt` (bank and card) and `stmt --all` in OFX 1.0.2 (SGML, unclosed elements) and
2.2.0 (XML). ofxget exits 0 on OFX errors, so every answer is parsed with ofxtools and compared,
transaction by transaction and balance by balance, with what was pushed. A wrong password must
get SONRS 15500.

Then ofxtools' client in every version it speaks (102, 103, 151, 160, 200, 201, 202, 203, 210,
211, 220) downloads both statements in one POST: each answer must be in the version asked and
parse back, and with --ofxdump libofx's ofxdump (GnuCash's reader, DTD-validating) must read it
without error. With --aqbanking, aqbanking-cli (aqofxconnect) lists the accounts and downloads
transactions and balances of each.

Then the hub is restarted on the same database serving HTTPS (`serve --tls-cert --tls-key`)
with a self-signed certificate made here with `openssl req`, and ofxclient (which speaks only
HTTPS and verifies certificates) signs on, lists the accounts and downloads both statements;
it trusts the test certificate through `SSL_CERT_FILE`, set for this process before Python's
default TLS context is first built. With --ledger-autosync, ledger-autosync syncs both accounts
over the same HTTPS from an ofxclient.ini written by ofxclient's config code.

    python run.py --hub-bin BIN --ofxget VENV/bin/ofxget --ofxdump /usr/bin/ofxdump \
        --aqbanking /usr/bin/aqbanking-cli --ledger-autosync VENV/bin/ledger-autosync
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "faults"))
import hubproc  # noqa: E402

from ofxtools.Parser import OFXTree  # noqa: E402

UTC = timezone.utc
LONG = "A payee name much longer than thirty-two characters"
CHECKING = [
    ("C1", "2024-01-05T10:00:00Z", "-20.25", LONG, "DEBIT"),
    ("C2", "2024-01-10T10:00:00Z", "500", "Client payment", "CREDIT"),
    ("C3", "2024-01-20T15:30:00Z", "-5", "Coffee", "DEBIT"),
]
CARD = [
    ("K1", "2024-01-07T10:00:00Z", "-75", "Hotel", "DEBIT"),
    ("K2", "2024-01-15T10:00:00Z", "30", "Payment, thank you", "CREDIT"),
]
BALANCES = {"1001": (Decimal("1474.75"), Decimal("1400.00")), "4111": (Decimal("-45.00"), None)}


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


def setup(hub, auth):
    status, conn, _ = hubproc.call(hub, auth, "POST", "/versioned/connections/create",
                                   {"platform": "OFX_DIRECT_CONNECT", "name": "Acme"})
    check(status == 200, f"connection: {status} {conn}")
    token, cid = conn["connection"]["access_token"], conn["connection"]["id"]
    accounts = {}
    for internal, kind, extra in [
        ("1001", "bank", {"current_balance": 1474.75, "available_balance": 1400,
                          "routing_number": "123456789"}),
        ("4111", "credit_card", {"current_balance": -45}),
    ]:
        body = {"bank_feed_account": {"internal_bank_account_id": internal,
                                      "bank_account_type": kind, "currency_code": "USD",
                                      "name": f"Account {internal}", **extra}}
        status, a, _ = hubproc.call(hub, auth, "POST",
                                    f"/versioned/accounting/bank_feeds/accounts?access_token={token}", body)
        check(status == 200, f"account: {status} {a}")
        accounts[internal] = a["bank_feed_account"]["id"]
    for internal, rows in [("1001", CHECKING), ("4111", CARD)]:
        txs = [{"transaction_id": i, "posted_at": p, "amount": float(a), "description": d,
                "debit_credit_memo": m} for i, p, a, d, m in rows]
        body = {"bank_feed_transactions": {"bank_feed_account_id": accounts[internal], "transactions": txs}}
        status, r, _ = hubproc.call(hub, auth, "POST",
                                    f"/versioned/accounting/bank_feeds/transactions?access_token={token}", body)
        check(status == 200, f"push: {status} {r}")
    status, creds, _ = hubproc.call(hub, auth, "POST", f"/versioned/connections/{cid}/ofx_credentials", {})
    check(status == 201, f"credentials: {status} {creds}")
    return creds["ofx_credentials"]


def ofxget(ofxget_bin, home, args):
    env = dict(os.environ, HOME=home)
    out = subprocess.run([ofxget_bin, *args], env=env, capture_output=True, timeout=60)
    text = out.stdout
    start = min((i for i in (text.find(b"OFXHEADER"), text.find(b"<?xml")) if i >= 0), default=-1)
    check(start >= 0, f"ofxget {args[0]} printed no OFX (rc {out.returncode}): "
          f"{out.stdout[-500:]!r} {out.stderr[-1500:]!r}")
    tree = OFXTree()
    tree.parse(BytesIO(text[start:]))
    return tree.convert()


def compare_statement(stmt, version):
    acct = stmt.account.acctid
    expected = {"1001": CHECKING, "4111": CARD}[acct]
    got = [(t.fitid, t.dtposted, t.trnamt, t.name, t.memo) for t in stmt.banktranlist]
    check(len(got) == len(expected), f"{version} {acct}: {len(got)} transactions, want {len(expected)}")
    for (fitid, posted, amount, name, memo), (i, p, a, d, _) in zip(got, expected):
        want_posted = datetime.fromisoformat(p.replace("Z", "+00:00")).astimezone(UTC)
        check(fitid == i, f"{version} {acct}: FITID {fitid} != {i}")
        check(posted == want_posted, f"{version} {i}: DTPOSTED {posted} != {want_posted}")
        check(amount == Decimal(a), f"{version} {i}: TRNAMT {amount} != {a}")
        check(name == d[:32].rstrip(), f"{version} {i}: NAME {name!r}")
        if len(d) > 32:
            check(memo and d[32:].strip() in memo, f"{version} {i}: the rest of the name in MEMO")
    ledger, avail = BALANCES[acct]
    check(stmt.ledgerbal.balamt == ledger, f"{version} {acct}: LEDGERBAL {stmt.ledgerbal.balamt} != {ledger}")
    if avail is None:
        check(stmt.availbal is None, f"{version} {acct}: unexpected AVAILBAL")
    else:
        check(stmt.availbal.balamt == avail, f"{version} {acct}: AVAILBAL {stmt.availbal.balamt} != {avail}")


def run_version(ofxget_bin, creds, version):
    home = tempfile.mkdtemp(prefix=f"ofxget-{version}-")  # a fresh profile cache per version
    common = ["--url", creds["url"], "--org", creds["org"], "--fid", creds["fid"],
              "--version", str(version), "--nokeyring"]
    if version < 200:
        common.append("--unclosedelements")
    login = ["-u", creds["user_id"], "--password", creds["password"]]

    prof = ofxget(ofxget_bin, home, ["prof", *common])
    check(prof.signonmsgsrsv1.sonrs.status.code == 0, f"{version} prof: sign-on")
    profrs = prof.profmsgsrsv1[0].profrs
    urls = {ms.msgsetcore.url for ms in profrs.msgsetlist}
    check(urls == {creds["url"]}, f"{version} prof: service URLs {urls}")

    info = ofxget(ofxget_bin, home, ["acctinfo", *common, *login])
    check(info.signonmsgsrsv1.sonrs.status.code == 0, f"{version} acctinfo: sign-on")
    listed = {}
    for acctinfo in info.signupmsgsrsv1[0].acctinfors:
        for sub in acctinfo:
            acctfrom = sub.bankacctfrom if type(sub).__name__ == "BANKACCTINFO" else sub.ccacctfrom
            check(acctfrom is not None, f"{version} acctinfo: {sub!r}")
            listed[acctfrom.acctid] = sub.svcstatus
    check(listed == {"1001": "ACTIVE", "4111": "ACTIVE"}, f"{version} acctinfo: {listed}")

    dates = ["-s", "20240101", "-e", "20240131"]
    stmt = ofxget(ofxget_bin, home, ["stmt", *common, *login, "--bankid", creds["bank_id"],
                                     "-C", "1001", "-c", "4111", *dates])
    check(stmt.signonmsgsrsv1.sonrs.status.code == 0, f"{version} stmt: sign-on")
    check(sorted(s.account.acctid for s in stmt.statements) == ["1001", "4111"], f"{version} stmt: accounts")
    for s in stmt.statements:
        compare_statement(s, version)

    every = ofxget(ofxget_bin, home, ["stmt", *common, *login, "--all", *dates])
    check(sorted(s.account.acctid for s in every.statements) == ["1001", "4111"], f"{version} stmt --all")
    for s in every.statements:
        compare_statement(s, version)

    bad = ofxget(ofxget_bin, home, ["acctinfo", *common, "-u", creds["user_id"], "--password", "wrong-password"])
    code = bad.signonmsgsrsv1.sonrs.status.code
    check(code == 15500, f"{version} bad password: SONRS {code}, want 15500")
    check(bad.signupmsgsrsv1 is None, f"{version} bad password: no other message sets")
    print(f"ofxget {version}: prof, acctinfo, stmt (bank + card), stmt --all, bad password: OK")


ALL_VERSIONS = (102, 103, 151, 160, 200, 201, 202, 203, 210, 211, 220)


def ofxdump_check(ofxdump_bin, raw, version, work):
    """libofx's ofxdump (GnuCash's OFX reader; it validates against the OFX DTD with OpenSP) on
    one answer: no error, and every FITID and both ledger balances read."""
    path = f"{work}/answer-{version}.ofx"
    with open(path, "wb") as f:
        f.write(raw)
    out = subprocess.run([ofxdump_bin, path], capture_output=True, timeout=60)
    text = (out.stdout + out.stderr).decode("utf-8", "replace")
    errors = [line for line in text.splitlines() if "ERROR" in line]
    check(not errors, f"ofxdump {version}: {errors[:5]}")
    for fitid, *_ in CHECKING + CARD:
        check(f"ID for this transaction: {fitid}" in text, f"ofxdump {version}: FITID {fitid} not read")
    check(text.count("Ledger balance:") >= 2, f"ofxdump {version}: ledger balances not read")


def run_every_version(hub, creds, ofxdump_bin, work):
    """ofxtools' client in every version it speaks: bank and card statements in one POST, answered
    in the version asked (the header says so) and parsed back by ofxtools."""
    from ofxtools.Client import CcStmtRq, OFXClient, StmtRq

    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 1, 31, tzinfo=UTC)
    for version in ALL_VERSIONS:
        client = OFXClient(creds["url"], userid=creds["user_id"], org=creds["org"], fid=creds["fid"],
                           version=version, bankid=creds["bank_id"],
                           close_elements=version >= 200 or version in (103, 160))
        raw = client.request_statements(
            creds["password"], StmtRq(acctid="1001", accttype="CHECKING", dtstart=start, dtend=end),
            CcStmtRq(acctid="4111", dtstart=start, dtend=end), skip_profile=True).read()
        head = raw[:300].decode("ascii", "replace")
        want = f"VERSION:{version}" if version < 200 else f'VERSION="{version}"'
        check(want in head, f"{version}: answered in another version: {head!r}")
        if ofxdump_bin:
            ofxdump_check(ofxdump_bin, raw, version, work)
        tree = OFXTree()
        tree.parse(BytesIO(raw))
        ofx = tree.convert()
        check(ofx.signonmsgsrsv1.sonrs.status.code == 0, f"{version}: sign-on")
        check(sorted(s.account.acctid for s in ofx.statements) == ["1001", "4111"], f"{version}: accounts")
        for s in ofx.statements:
            compare_statement(s, version)
    print(f"ofxtools client, versions {', '.join(map(str, ALL_VERSIONS))}: bank + card statements "
          f"answered in the client's version{' and read by ofxdump' if ofxdump_bin else ''}: OK")


def self_signed(work):
    """A certificate for 127.0.0.1 and localhost and its key, as files."""
    cert, key = f"{work}/tls.crt", f"{work}/tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def run_ofxclient(hub, creds):
    """ofxclient over HTTPS: authenticate, the account list, and each statement compared."""
    from ofxclient import Institution  # imported here: it reads SSL_CERT_FILE's trust when used

    url = f"{hub.url}/ofx/{creds['url'].rsplit('/', 1)[1]}"
    inst = Institution(id=creds["fid"], org=creds["org"], url=url,
                       username=creds["user_id"], password=creds["password"])
    check(inst.authenticate() == 1, "ofxclient: authenticate")
    accounts = {a.number: a for a in inst.accounts()}
    check(sorted(accounts) == ["1001", "4111"], f"ofxclient accounts: {sorted(accounts)}")
    for number, account in sorted(accounts.items()):
        days = (datetime.now() - datetime(2023, 12, 1)).days
        raw = account.download(days=days).read().encode()
        tree = OFXTree()
        tree.parse(BytesIO(raw[raw.find(b"OFXHEADER"):]))
        statements = tree.convert().statements
        check(len(statements) == 1, f"ofxclient {number}: {len(statements)} statements")
        compare_statement(statements[0], "ofxclient-102")
    bad = Institution(id=creds["fid"], org=creds["org"], url=url,
                      username=creds["user_id"], password="wrong-password")
    try:
        bad.authenticate()
        check(False, "ofxclient: a wrong password was accepted")
    except ValueError:
        pass
    print("ofxclient 102 over HTTPS (self-signed certificate): authenticate, accounts, "
          "bank + card statements, bad password: OK")


def run_aqbanking(aq_bin, creds, work):
    """aqbanking-cli (GnuCash's online banking library) with aqofxconnect, non-interactively:
    a user from the credentials (password from a PIN file), the account list, then transactions
    and balance (aqbanking asks for the balance in a separate INCLUDE=N request) of each account,
    compared with what was pushed. Plain HTTP: aqbanking speaks OFX 1.x SGML over HTTP/1.0 with a
    Host header without the port."""
    cfg, pin = f"{work}/aqcfg", f"{work}/aqpin"
    with open(pin, "w") as f:
        f.write(f'OFX%3A%3Auserpass%3A%3A{creds["user_id"]} = "{creds["password"]}"\n')

    def aq(*args):
        out = subprocess.run([aq_bin, "-D", cfg, "-n", "-P", pin, *args], capture_output=True,
                             timeout=60, env=dict(os.environ, HOME=work))
        check(out.returncode == 0, f"aqbanking-cli {args[0]}: rc {out.returncode} {out.stderr[-1500:]!r}")
        return out.stdout.decode("utf-8", "replace")

    aq("--control=aqofxconnect", "adduser", "--username=Acme", f"--user={creds['user_id']}",
       f"--server={creds['url']}", f"--org={creds['org']}", f"--fid={creds['fid']}",
       f"--bank={creds['bank_id']}", "--appid=QWIN", "--appver=2700", "--headerver=102")
    # aqbanking 6.5.3 creates no accounts while it has no account spec at all (also at upstream
    # HEAD): a placeholder spec while it fetches the list, removed afterwards.
    os.makedirs(f"{cfg}/settings6/accountspecs", exist_ok=True)
    placeholder = f"{cfg}/settings6/accountspecs/00009000.conf"
    with open(placeholder, "w") as f:
        f.write('int uniqueId="9000"\nchar backendName="aqnone"\nchar accountNumber="0"\n')
    aq("--control=aqofxconnect", "getaccounts", "--user=1")
    os.remove(placeholder)
    listed = aq("listaccs")
    for acct, kind in (("1001", "checking"), ("4111", "creditcard")):
        check(any(acct in line and kind in line for line in listed.splitlines()),
              f"aqbanking listaccs: no {kind} {acct} in {listed!r}")
    for acct, rows in (("1001", CHECKING), ("4111", CARD)):
        ctx = f"{work}/{acct}.ctx"
        aq("request", f"--account={acct}", "--transactions", "--balance", "--fromdate=20240101",
           "--todate=20240131", f"--ctxfile={ctx}")
        lines = [line for line in aq("listtrans", f"--ctxfile={ctx}").splitlines() if line.strip()]
        want = []
        for _, posted, amount, _, _ in rows:
            d = datetime.fromisoformat(posted.replace("Z", "+00:00"))
            want.append(f"{d:%d.%m.%Y}\t{Decimal(amount):.2f}")
        got = ["\t".join(line.split("\t")[:2]) for line in lines]
        check(got == want, f"aqbanking {acct} transactions: {got} != {want}")
        balances = aq("listbal", f"--ctxfile={ctx}")
        ledger = f"{BALANCES[acct][0]:.2f}"
        check(f"\t{ledger}\t{acct}" in balances, f"aqbanking {acct} balance {ledger}: {balances!r}")
    print("aqbanking-cli 6.5.3 (aqofxconnect, OFX 102 over HTTP/1.0): accounts, transactions and "
          "balances of both accounts: OK")


def run_ledger_autosync(la_bin, hub, creds, work):
    """ledger-autosync over HTTPS, as its users run it: an ofxclient.ini made by ofxclient's own
    config writer (plain values: no keyring here), then a sync of every account printed as
    ledger entries, each carrying `ofxid: FID.ACCTID.FITID` and the amount."""
    from ofxclient import Institution
    from ofxclient.config import OfxConfig

    url = f"{hub.url}/ofx/{creds['url'].rsplit('/', 1)[1]}"
    inst = Institution(id=creds["fid"], org=creds["org"], url=url,
                       username=creds["user_id"], password=creds["password"])
    ini = f"{work}/ofxclient.ini"
    config = OfxConfig(file_name=ini)
    for account in inst.accounts():
        config.add_account(account)
    config.save()
    env = dict(os.environ, HOME=work, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    out = subprocess.run([la_bin, "-L", "-r", "-m", str((datetime.now() - datetime(2023, 12, 1)).days),
                          "-o", ini], env=env, capture_output=True, timeout=120)
    text = out.stdout.decode("utf-8", "replace")
    check(out.returncode == 0, f"ledger-autosync exited {out.returncode}: {out.stderr[-1500:]!r}")
    for acct, rows in (("1001", CHECKING), ("4111", CARD)):
        for fitid, _, amount, _, _ in rows:
            entry = next((e for e in text.split("\n\n") if f"ofxid: {creds['fid']}.{acct}.{fitid}" in e), None)
            check(entry is not None, f"ledger-autosync: no entry for {acct}.{fitid} in {text[-2000:]!r}")
            money = f"{abs(Decimal(amount)):.2f}"
            check(money in entry, f"ledger-autosync {fitid}: {money} not in {entry!r}")
    print("ledger-autosync 1.2.0 over HTTPS: every transaction of both accounts, with its ofxid: OK")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub-bin", required=True)
    p.add_argument("--ofxget", required=True)
    p.add_argument("--ofxdump", help="libofx's ofxdump: also read every version's answer with it")
    p.add_argument("--aqbanking", help="aqbanking-cli: also download with it (plain HTTP)")
    p.add_argument("--ledger-autosync", help="ledger-autosync's script: also sync with it over HTTPS")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="bf-ofx-")
    db = f"sqlite://{work}/hub.db"
    hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), f"{work}/hub.log")
    try:
        auth = hubproc.create_org(args.hub_bin, db, "Demo Bank")
        creds = setup(hub, auth)
        for version in (102, 220):
            run_version(args.ofxget, creds, version)
        run_every_version(hub, creds, args.ofxdump, work)
        if args.aqbanking:
            run_aqbanking(args.aqbanking, creds, work)
        hub.stop()
        cert, key = self_signed(work)
        os.environ["SSL_CERT_FILE"] = cert
        hub = hubproc.Hub(args.hub_bin, db, hubproc.free_port(), f"{work}/hub.log",
                          tls=(cert, key))
        run_ofxclient(hub, creds)
        if args.ledger_autosync:
            run_ledger_autosync(args.ledger_autosync, hub, creds, work)
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
