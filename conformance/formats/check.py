"""Parse every file `write_samples` produced with independent readers from PyPI and compare each
account, transaction, amount and balance with expected.json (the source data, not the files).

    python check.py OUTDIR [--xsd camt.053.001.02.xsd]

Exits non-zero on the first mismatch, printing what differed.
"""

import argparse
import csv
import json
import re
import sys
import unicodedata
import warnings
from decimal import Decimal
from pathlib import Path
import xml.etree.ElementTree as ET

from bai2 import bai2
import mt940
from ofxtools.Parser import OFXTree

warnings.simplefilter("ignore")  # ofxtools warns about INTU.* tags, as documented.

failures = []
checked = {"files": 0, "transactions": 0, "balances": 0}


def check(cond, what):
    if not cond:
        failures.append(what)


def eq(actual, expected, what):
    check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")


def dec(s):
    return None if s is None else Decimal(s)


def alnum(s):
    """Letters and digits after stripping accents: how MT940 text is compared, since MT940
    must transliterate (our writer folds accents; this uses Python's own Unicode data)."""
    s = unicodedata.normalize("NFKD", s or "")
    return re.sub(r"[^A-Za-z0-9]", "", s.encode("ascii", "ignore").decode())


def check_ofx(path, acct, charset_1252):
    tree = OFXTree()
    tree.parse(str(path))
    ofx = tree.convert()
    eq(ofx.signonmsgsrsv1.sonrs.status.code, 0, f"{path.name} SONRS code")
    stmts = ofx.statements
    eq(len(stmts), 1, f"{path.name} statements")
    st = stmts[0]
    eq(st.account.acctid, acct["account_number"], f"{path.name} ACCTID")
    eq(st.curdef, acct["currency"], f"{path.name} CURDEF")
    if acct["kind"] == "bank":
        eq(st.account.bankid, acct["routing"], f"{path.name} BANKID")
        eq(st.account.accttype, acct["account_type"], f"{path.name} ACCTTYPE")
    eq(st.ledgerbal.balamt, dec(acct["closing"]["amount"]), f"{path.name} LEDGERBAL")
    checked["balances"] += 1
    if acct["available"]:
        eq(st.availbal.balamt, dec(acct["available"]["amount"]), f"{path.name} AVAILBAL")
        checked["balances"] += 1
    txs = list(st.banktranlist)
    eq(len(txs), len(acct["transactions"]), f"{path.name} transaction count")

    def as_sent(s):
        return s.encode("cp1252", "replace").decode("cp1252") if charset_1252 else s

    for t, e in zip(txs, acct["transactions"]):
        w = f"{path.name} {e['transaction_id']}"
        eq(t.fitid, e["transaction_id"], f"{w} FITID")
        eq(t.trnamt, dec(e["amount"]), f"{w} TRNAMT")
        eq(t.dtposted.date().isoformat(), e["posted_date"], f"{w} DTPOSTED")
        source = as_sent((e["payee"] or e["description"]).strip())
        name = t.name or ""
        check(len(name) <= 32 and source.startswith(name), f"{w} NAME {name!r} vs {source!r}")
        rest = source[len(name):].strip()
        if rest:
            check(t.memo and t.memo.startswith(rest), f"{w} MEMO {t.memo!r} should start {rest!r}")
        if e["memo"]:
            check(t.memo and as_sent(e["memo"]) in t.memo, f"{w} MEMO {t.memo!r} lacks memo")
        checked["transactions"] += 1
    checked["files"] += 1


def check_csv(path, acct):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    eq(len(rows), len(acct["transactions"]), f"{path.name} rows")
    for r, e in zip(rows, acct["transactions"]):
        w = f"{path.name} {e['transaction_id']}"
        eq(r["transaction_id"], e["transaction_id"], f"{w} id")
        eq(Decimal(r["amount"]), dec(e["amount"]), f"{w} amount")
        eq(r["currency"], acct["currency"], f"{w} currency")
        eq(r["description"], e["description"], f"{w} description")
        eq(r["payee"], e["payee"] or "", f"{w} payee")
        eq(r["memo"], e["memo"] or "", f"{w} memo")
        eq(r["posted_at"][:10], e["posted_date"], f"{w} posted_at")
        eq(r["date"], e["transaction_date"] or e["posted_date"], f"{w} date")
        eq(r["running_balance"], "", f"{w} running_balance (none reported)")
        checked["transactions"] += 1
    checked["files"] += 1


def minor(amount, units):
    return int(Decimal(amount) * (10 ** units))


def check_bai2(path, accounts):
    with open(path, encoding="utf-8") as f:
        parsed = bai2.parse_from_file(f)  # checks record counts and control totals
    groups = parsed.children
    eq(len(groups), 1, "BAI2 groups")
    got = groups[0].children
    eq(len(got), len(accounts), "BAI2 accounts")
    for a, e in zip(got, accounts):
        w = f"BAI2 {e['account_number']}"
        eq(a.header.customer_account_number, e["account_number"], f"{w} number")
        eq(a.header.currency, e["currency"], f"{w} currency")
        summary = {s.type_code.code: s.amount for s in a.header.summary_items}
        for code, key in (("010", "opening"), ("015", "closing"), ("045", "available")):
            if e[key]:
                eq(summary.get(code), minor(e[key]["amount"], e["minor_units"]), f"{w} {code}")
                checked["balances"] += 1
        eq(len(a.children), len(e["transactions"]), f"{w} transactions")
        for t, x in zip(a.children, e["transactions"]):
            sign = -1 if t.type_code.transaction.name == "debit" else 1
            eq(sign * t.amount, minor(x["amount"], e["minor_units"]), f"{w} {x['transaction_id']} amount")
            eq(t.bank_reference, x["transaction_id"], f"{w} reference")
            eq(t.text, x["description"], f"{w} {x['transaction_id']} text")
            checked["transactions"] += 1
    checked["files"] += 1


def check_mt940(path, acct):
    parsed = mt940.parse(str(path))
    d = parsed.data
    cur, w = acct["currency"], f"{path.name}"
    eq(d.get("account_identification"), acct["account_number"], f"{w} :25:")
    for tag, key in (("final_opening_balance", "opening"), ("final_closing_balance", "closing"), ("available_balance", "available")):
        if acct[key]:
            b = d[tag]
            eq(b.amount.amount, dec(acct[key]["amount"]), f"{w} {tag}")
            eq(b.amount.currency, cur, f"{w} {tag} currency")
            eq(str(b.date), acct[key]["date"], f"{w} {tag} date")
            checked["balances"] += 1
    txs = list(parsed)
    eq(len(txs), len(acct["transactions"]), f"{w} transactions")
    for t, e in zip(txs, acct["transactions"]):
        td = t.data
        eq(td["amount"].amount, dec(e["amount"]), f"{w} {e['transaction_id']} amount")
        eq(str(td["date"]), e["posted_date"], f"{w} {e['transaction_id']} date")
        eq(td["bank_reference"], e["transaction_id"][:16], f"{w} reference")
        text = alnum(td.get("transaction_details"))
        check(text.startswith(alnum(e["description"])[:300]), f"{w} {e['transaction_id']} :86: {td.get('transaction_details')!r}")
        checked["transactions"] += 1
    checked["files"] += 1


NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}


def camt_ns(version):
    return {"c": f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"}


def signed(el):
    amt = Decimal(el.find("c:Amt", NS).text)
    return -amt if el.find("c:CdtDbtInd", NS).text == "DBIT" else amt


def check_camt(path, accounts, xsd, version="02"):
    global NS
    NS = camt_ns(version)
    if xsd:
        import xmlschema

        xmlschema.XMLSchema(xsd).validate(str(path))  # raises on any schema violation
    root = ET.parse(path).getroot()
    stmts = root.findall("c:BkToCstmrStmt/c:Stmt", NS)
    eq(len(stmts), len(accounts), "CAMT statements")
    for s, e in zip(stmts, accounts):
        w = f"CAMT {e['account_number']}"
        eq(s.find("c:Acct/c:Id/c:Othr/c:Id", NS).text, e["account_number"], f"{w} account")
        bals = {b.find("c:Tp/c:CdOrPrtry/c:Cd", NS).text: b for b in s.findall("c:Bal", NS)}
        for code, key in (("OPBD", "opening"), ("CLBD", "closing"), ("CLAV", "available")):
            if e[key]:
                eq(signed(bals[code]), dec(e[key]["amount"]), f"{w} {code}")
                eq(bals[code].find("c:Amt", NS).get("Ccy"), e["currency"], f"{w} {code} Ccy")
                eq(bals[code].find("c:Dt/c:Dt", NS).text, e[key]["date"], f"{w} {code} date")
                checked["balances"] += 1
        entries = s.findall("c:Ntry", NS)
        eq(len(entries), len(e["transactions"]), f"{w} entries")
        for n, x in zip(entries, e["transactions"]):
            eq(signed(n), dec(x["amount"]), f"{w} {x['transaction_id']} amount")
            eq(n.find("c:Amt", NS).get("Ccy"), e["currency"], f"{w} Ccy")
            eq(n.find("c:AcctSvcrRef", NS).text, x["transaction_id"], f"{w} AcctSvcrRef")
            eq(n.find("c:BookgDt/c:Dt", NS).text, x["posted_date"], f"{w} BookgDt")
            eq(n.find("c:AddtlNtryInf", NS).text, x["description"], f"{w} AddtlNtryInf")
            checked["transactions"] += 1
    checked["files"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--xsd", help="camt.053.001.02.xsd; without it CAMT is checked element by element only")
    ap.add_argument("--xsd08", help="camt.053.001.08.xsd, likewise for the .001.08 file")
    args = ap.parse_args()
    d = args.outdir
    expected = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    accounts = expected["accounts"]
    kinds = {(a["kind"], a["currency"]) for a in accounts}
    check({("bank", "USD"), ("card", "JPY")} <= kinds, f"samples must cover bank USD and card JPY, have {kinds}")
    check(any(not t["description"].isascii() for a in accounts for t in a["transactions"]), "samples need non-ASCII text")
    def run(fn, *a, **kw):
        """A reader that rejects a file (bad control total, schema violation) is a failure too."""
        try:
            fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - report every reader's complaint
            failures.append(f"{fn.__name__}({a[0]}): {type(e).__name__}: {e}")

    for a in accounts:
        i = a["account_id"]
        run(check_ofx, d / f"{i}.qbo", a, charset_1252=True)
        run(check_ofx, d / f"{i}.qfx", a, charset_1252=False)
        run(check_ofx, d / f"{i}.ofx", a, charset_1252=False)
        run(check_ofx, d / f"{i}.v220.ofx", a, charset_1252=False)
        run(check_csv, d / f"{i}.csv", a)
        run(check_mt940, d / f"{i}.mt940", a)
    run(check_bai2, d / "all.bai2", accounts)
    run(check_camt, d / "all.camt053.xml", accounts, args.xsd)
    run(check_camt, d / "all.camt053.v08.xml", accounts, args.xsd08, version="08")
    if failures:
        print("\n".join(failures))
        print(f"FAILED: {len(failures)} mismatches")
        sys.exit(1)
    print(f"ok: {checked['files']} files, {checked['transactions']} transactions, {checked['balances']} balances"
          + ("" if args.xsd and args.xsd08 else " (CAMT not validated against both XSDs)"))


if __name__ == "__main__":
    main()
