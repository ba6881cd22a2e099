"""OFX Direct Connect round trip against real client requests.

    python direct_connect.py gen DIR     # requests built by ofxtools (every version) + ofxclient/aqbanking shapes
    cargo run -p bankfeeds-formats --example answer_requests -- DIR
    python direct_connect.py check DIR   # what our reader understood, and ofxtools parsing our answers

The check compares against the parameters given to ofxtools and against expected.json (the
sample statements, written by `write_samples` into the same DIR), never against our own output.
"""

import json
import sys
import warnings
from datetime import datetime, timezone
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from ofxtools.Client import CcStmtRq, OFXClient, StmtRq
from ofxtools.Parser import OFXTree

warnings.simplefilter("ignore")
UTC = timezone.utc
START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 31, tzinfo=UTC)
VERSIONS = [(102, False), (102, True), (103, False), (151, True), (160, False),
            (200, True), (201, True), (202, True), (203, True), (210, True), (211, True), (220, True)]

OFXCLIENT = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
    "<OFX>\r\n<SIGNONMSGSRQV1>\r\n<SONRQ>\r\n<DTCLIENT>20261121045705\r\n<USERID>alice\r\n"
    "<USERPASS>pw\r\n\r\n<LANGUAGE>ENG\r\n<FI>\r\n<ORG>HUB\r\n<FID>9999\r\n</FI>\r\n<APPID>QWIN\r\n"
    "<APPVER>2500\r\n</SONRQ>\r\n</SIGNONMSGSRQV1>\r\n<CREDITCARDMSGSRQV1>\r\n<CCSTMTTRNRQ>\r\n"
    "<TRNUID>ofxclient-1\r\n<CLTCOOKIE>4\r\n<CCSTMTRQ>\r\n<CCACCTFROM>\r\n<ACCTID>4111000011112222\r\n"
    "</CCACCTFROM>\r\n<INCTRAN>\r\n<DTSTART>20240101\r\n<INCLUDE>Y\r\n</INCTRAN>\r\n</CCSTMTRQ>\r\n"
    "</CCSTMTTRNRQ>\r\n</CREDITCARDMSGSRQV1>\r\n</OFX>\r\n"
)
AQBANKING = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
    "<OFX><SIGNONMSGSRQV1><SONRQ><DTCLIENT>20240201000000.000<USERID>alice<USERPASS>pw"
    "<LANGUAGE>ENG<FI><ORG>HUB<FID>9999</FI><APPID>QWIN<APPVER>2700</SONRQ></SIGNONMSGSRQV1>"
    "<BANKMSGSRQV1><STMTTRNRQ><TRNUID>aq-1<CLTCOOKIE>1<STMTRQ><BANKACCTFROM><BANKID>123456789"
    "<ACCTID>1001<ACCTTYPE>CHECKING</BANKACCTFROM><INCTRAN><DTSTART>20240101000000.000"
    "<INCLUDE>N</INCTRAN></STMTRQ></STMTTRNRQ></BANKMSGSRQV1></OFX>"
)


def client(version, closed):
    return OFXClient("http://127.0.0.1:1/ofx", userid="alice", org="HUB", fid="9999",
                     version=version, close_elements=closed, bankid="123456789")


def gen(d):
    d.mkdir(parents=True, exist_ok=True)

    def save(name, body, expect):
        (d / f"{name}.request.ofx").write_bytes(body)
        (d / f"{name}.expect.json").write_text(json.dumps(expect))

    for version, closed in VERSIONS:
        tag = f"v{version}{'c' if closed else 'u'}"
        c = client(version, closed)
        save(f"{tag}-prof", c.request_profile(dryrun=True).read(), {"version": version, "kinds": ["profile"], "anonymous": True})
        save(f"{tag}-acctinfo", c.request_accounts("pw", START, dryrun=True, skip_profile=True).read(),
             {"version": version, "kinds": ["acctinfo"]})
        rqs = [StmtRq(acctid="1001", accttype="CHECKING", dtstart=START, dtend=END),
               StmtRq(acctid="2002", accttype="SAVINGS", dtstart=START, dtend=END),
               StmtRq(acctid="424242", accttype="CHECKING", dtstart=START, dtend=END),
               CcStmtRq(acctid="4111000011112222", dtstart=START, dtend=END),
               CcStmtRq(acctid="5500000000000004", dtstart=START, dtend=END, inctran=False)]
        save(f"{tag}-stmt", c.request_statements("pw", *rqs, dryrun=True, skip_profile=True).read(),
             {"version": version, "kinds": ["stmt", "stmt", "stmt", "ccstmt", "ccstmt"],
              "accounts": ["1001", "2002", "424242", "4111000011112222", "5500000000000004"],
              "include": [True, True, True, True, False]})
        save(f"{tag}-badpw", c.request_statements("wrong", rqs[0], dryrun=True, skip_profile=True).read(),
             {"version": version, "kinds": ["stmt"], "bad_password": True})
    save("ofxclient-cc", OFXCLIENT.encode(), {"version": 102, "kinds": ["ccstmt"], "accounts": ["4111000011112222"],
                                               "include": [True], "cookies": ["4"], "dtstart": "20240101000000.000[0:GMT]", "dtend": None})
    save("aqbanking-balance", AQBANKING.encode(), {"version": 102, "kinds": ["stmt"], "accounts": ["1001"], "include": [False],
                                                   "cookies": ["1"], "dtstart": "20240101000000.000[0:GMT]", "dtend": None})


failures = []


def eq(a, b, what):
    if a != b:
        failures.append(f"{what}: got {a!r}, expected {b!r}")


def trnrs_list(ofx):
    out = []
    for name in ("signupmsgsrsv1", "bankmsgsrsv1", "creditcardmsgsrsv1", "profmsgsrsv1"):
        ms = getattr(ofx, name, None)
        if ms is not None:
            out.extend(ms)
    return out


def check(d):
    expected = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    by_number = {a["account_number"]: a for a in expected["accounts"]}
    n = 0
    for exp_path in sorted(d.glob("*.expect.json")):
        name = exp_path.name[: -len(".expect.json")]
        exp = json.loads(exp_path.read_text())
        err = d / f"{name}.error.txt"
        if err.exists():
            failures.append(f"{name}: our reader refused the request: {err.read_text()}")
            continue
        parsed = json.loads((d / f"{name}.parsed.json").read_text())
        eq(parsed["version"], exp["version"], f"{name} version")
        # What ofxtools itself reads from its request: TRNUIDs and sign-on.
        req = OFXTree()
        req.parse(str(d / f"{name}.request.ofx"))
        root = req.getroot()
        trnuids = [e.text for e in root.iter("TRNUID")]
        eq([t["trnuid"] for t in parsed["transactions"]], trnuids, f"{name} TRNUIDs")
        eq([t["kind"] for t in parsed["transactions"]], exp["kinds"], f"{name} request kinds")
        eq(parsed["signon"]["user_id"], root.find(".//USERID").text, f"{name} USERID")
        eq(parsed["signon"]["org"], "HUB", f"{name} ORG")
        if exp.get("anonymous"):
            eq(parsed["signon"]["anonymous"], True, f"{name} anonymous")
        if "accounts" in exp:
            eq([t["acct_id"] for t in parsed["transactions"]], exp["accounts"], f"{name} ACCTIDs")
            eq([t["include"] for t in parsed["transactions"]], exp["include"], f"{name} INCLUDE")
        if "cookies" in exp:
            eq([t["cltcookie"] for t in parsed["transactions"]], exp["cookies"], f"{name} CLTCOOKIE")
        if "dtstart" in exp:
            eq(parsed["transactions"][0]["dtstart"], exp["dtstart"], f"{name} DTSTART")
            eq(parsed["transactions"][0]["dtend"], exp["dtend"], f"{name} DTEND")

        # ofxtools parsing our answer.
        raw = (d / f"{name}.response.ofx").read_bytes()
        tree = OFXTree()
        tree.parse(BytesIO(raw))
        ofx = tree.convert()
        head = raw[:200].decode("ascii", "replace")
        family_ok = ("VERSION:%d" % exp["version"] in head) if exp["version"] < 200 else ('VERSION="%d"' % exp["version"] in head)
        eq(family_ok, True, f"{name} answered in the client's version")
        code = ofx.signonmsgsrsv1.sonrs.status.code
        if exp.get("bad_password"):
            eq(code, 15500, f"{name} SONRS code")
            eq(trnrs_list(ofx), [], f"{name} no message sets after a failed sign-on")
            n += 1
            continue
        eq(code, 0, f"{name} SONRS code")
        answers = trnrs_list(ofx)
        eq(sorted(a.trnuid for a in answers), sorted(trnuids), f"{name} every TRNUID answered once")
        for a, t in ((a, next(t for t in parsed["transactions"] if t["trnuid"] == a.trnuid)) for a in answers):
            w = f"{name} {t['kind']} {t.get('acct_id', '')}"
            eq(getattr(a, "cltcookie", None), t["cltcookie"], f"{w} CLTCOOKIE echoed")
            if t["kind"] == "profile":
                urls = {ms.url for ms in a.profrs.msgsetlist}
                eq(len(urls), 1, f"{w} one service URL")
            elif t["kind"] == "acctinfo":
                infos = a.acctinfors
                got = sorted(i.bankacctfrom.acctid if hasattr(i, "bankacctfrom") else i.ccacctfrom.acctid
                             for info in infos for i in info)
                eq(got, sorted(by_number), f"{w} accounts")
                eq({i.svcstatus for info in infos for i in info}, {"ACTIVE"}, f"{w} SVCSTATUS")
            else:
                acct = by_number.get(t["acct_id"])
                if acct is None:
                    eq(a.status.code, 2003, f"{w} unknown account")
                    continue
                eq(a.status.code, 0, f"{w} status")
                rs = a.stmtrs if t["kind"] == "stmt" else a.ccstmtrs
                eq(rs.curdef, acct["currency"], f"{w} CURDEF")
                eq(rs.ledgerbal.balamt, Decimal(acct["closing"]["amount"]), f"{w} LEDGERBAL")
                if acct["available"]:
                    eq(rs.availbal.balamt, Decimal(acct["available"]["amount"]), f"{w} AVAILBAL")
                if not t["include"]:
                    eq(rs.banktranlist, None, f"{w} INCLUDE=N has no BANKTRANLIST")
                    continue
                txs = list(rs.banktranlist)
                eq([(x.fitid, x.trnamt) for x in txs],
                   [(e["transaction_id"], Decimal(e["amount"])) for e in acct["transactions"]], f"{w} transactions")
        n += 1
    if failures:
        print("\n".join(failures))
        print(f"FAILED: {len(failures)} mismatches")
        sys.exit(1)
    print(f"ok: {n} Direct Connect exchanges")


if __name__ == "__main__":
    cmd, d = sys.argv[1], Path(sys.argv[2])
    gen(d) if cmd == "gen" else check(d)
