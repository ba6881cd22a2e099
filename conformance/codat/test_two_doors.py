"""One core, two doors: what the Codat door makes is what the Rutter-shaped door (`/versioned`)
sees, and a push through the Codat door reaches the platform once, with exact amounts."""

from decimal import Decimal
from urllib.parse import quote

from helpers import D, check, eq, succeeded, day, tx


def test_sdk_connections_are_the_rutter_shaped_doors_connections(dave_with_connections):
    t = dave_with_connections
    ids = t.codat.rutter_connection_ids()
    missing = set(t.conns.values()) - ids
    check(not missing, f"the Rutter-shaped door does not list {missing}: {ids}")


def test_quickbooks_sandbox_shows_each_pushed_transaction_once_with_exact_amounts_and_balances(codat):
    r = codat.linked_quickbooks_company("Two Doors Co", ["r-core"], books_name="Two Doors Books")
    sent = [tx("k1", day(3), 250, 350, kind="Dep", description="Deposit"),
            tx("k2", day(2), -19.99, 330.01, kind="Pos", description="Hardware store"),
            tx("k3", day(1), -0.01, 330, kind="Fee", description="Fee")]
    succeeded(codat.pushed(r.where, "r-core", sent), ["k1", "k2", "k3"])
    succeeded(codat.pushed(r.where, "r-core", sent[1:]), [])  # re-sent: nothing new
    feed_path = f"/sandbox/intuit/api/companies/{r.books}/feeds/{r.feeds['r-core']}"
    s, first = codat.sandbox("POST", f"{feed_path}/sync")
    eq((s, first["transactions_ingested"]), (200, 3), f"first sync {first}")
    succeeded(codat.pushed(r.where, "r-core", sent), [])  # re-sent after ingestion: still nothing new
    s, again = codat.sandbox("POST", f"{feed_path}/sync")
    eq((s, again["transactions_ingested"], again["statements"]), (200, 0, []), "second sync ingests nothing")
    s, feed = codat.sandbox("GET", feed_path)
    eq(s, 200, f"feed {feed}")
    rows = [x for st in reversed(feed["statements"]) for x in st["transactions"]]
    eq([(x["transaction_id"], x["description"], D(x["amount"]), D(x["balance"])) for x in rows],
       [(x["id"], x["description"], x["amount"], x["balance"]) for x in sent], "the feed, once each")
    # A statement per posting day (issue 17), oldest opening at 100, the newest closing at the
    # bank's 330 and tying out.
    statements = list(reversed(feed["statements"]))
    eq([st["transaction_count"] for st in statements], [1, 1, 1], "one statement per posting day")
    days = [st["date"] for st in statements]
    eq(days, sorted(set(days)), "each its own day, oldest first")
    eq(D(statements[0]["opening_balance"]), Decimal("100"), "the first opening")
    newest = statements[-1]
    eq((D(newest["closing_balance"]), D(newest["reported_closing_balance"]), newest["reconcile"]["status"]),
       (Decimal("330"), Decimal("330"), "ties_out"), "the newest statement")
    eq(D(codat.accounts_by_id(r.where)["r-core"].balance), Decimal("330"), "source account balance")
    # The same connection, seen from the Rutter-shaped door.
    check(r.conn in codat.rutter_connection_ids(), "the Rutter-shaped door does not list it")


def test_a_codat_push_reads_back_through_the_rutter_shaped_door_once_with_exact_amounts(codat):
    """Not in the former run.py: the FI reads a Codat-made connection with the Rutter-shaped API by
    rotating its access token (README), and sees the pushed account and transactions."""
    r = codat.linked_quickbooks_company("Read Back Co", ["r-core"], books_name="Read Back Books")
    sent = [tx("k1", day(3), 250, 350, kind="Dep", description="Deposit"),
            tx("k2", day(2), -19.99, 330.01, kind="Pos", description="Hardware store"),
            tx("k3", day(1), -0.01, 330, kind="Fee", description="Fee")]
    succeeded(codat.pushed(r.where, "r-core", sent), ["k1", "k2", "k3"])
    succeeded(codat.pushed(r.where, "r-core", sent), [])  # re-sent: nothing new
    s, rotated = codat.http("POST", f"/versioned/connections/{r.conn}/rotate_access_token")
    eq(s, 200, f"rotate_access_token {rotated}")
    token = quote(rotated["connection"]["access_token"], safe="")
    s, accounts = codat.http("GET", f"/versioned/accounting/bank_feeds/accounts?access_token={token}")
    eq(s, 200, f"accounts {accounts}")
    mine = [a for a in accounts["bank_feed_accounts"] if a["internal_bank_account_id"] == "r-core"]
    eq(len(mine), 1, f"the source account as a bank feed account: {accounts}")
    eq(D(mine[0]["current_balance"]), Decimal("330"), "current_balance")
    s, listed = codat.http("GET", "/versioned/accounting/bank_feeds/transactions"
                                  f"?access_token={token}&bank_feed_account_id={quote(mine[0]['id'], safe='')}")
    eq(s, 200, f"transactions {listed}")
    eq([(x["transaction_id"], x["description"], D(x["amount"])) for x in listed["bank_feed_transactions"]],
       [(x["id"], x["description"], x["amount"]) for x in sent], "the transactions, once each, oldest first")
