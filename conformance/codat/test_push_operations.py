"""Push operations (bank transactions): seed 004 (Codat's QuickBooks bank-transactions tutorial)
end to end, QuickBooks' push rules, the errors refused before any operation, and reading,
listing and describing push operations.

Seed 004's steps each get a fresh company built up to the step before theirs. The rules share
one linked connection with one connected account per rule (as a bank with several accounts
would have); no two rule tests touch the same account.
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from codat_bankfeeds.models import shared

from helpers import (
    D, UUID, check, created, day, enum_value, eq, expect_error, failed, succeeded, tx, unknown_id, v2_account,
)

# ---------------------------------------------------------------- seed 004

ATM = {"id": "ca1ba928-fc81-4674-acb7-39205929396f", "description": "HSBC Covent Grdn ATM W",
       "amount": Decimal("7991.59"), "balance": Decimal("8009.11"), "transaction_type": "Atm", "reconciled": False}
TUTORIAL_DESCRIPTION = "Requested early access to the new bank reconciliation scheme."
TUTORIAL_ACCOUNT = "352c5955-907a-4ff1-a3a2-fa9467739251"


def tutorial_company(codat):
    c = codat.sdk.companies.create(request=shared.CompanyRequestBody(
        name="Elaborate Events, Inc", description=TUTORIAL_DESCRIPTION))
    codat.check_company(c, "Elaborate Events, Inc")
    conn = codat.sdk.connections.create(request={"company_id": c.id, "request_body": {"platform_key": "hcws"}})
    codat.check_connection(conn, "hcws")
    return c, conn


def tutorial_account(codat, where):
    """The tutorial's v1 body."""
    return codat.sdk.source_accounts.create(request={**where, "request_body": shared.SourceAccountPrototype(
        id=TUTORIAL_ACCOUNT, account_name="Account 002", account_number="12345670",
        account_type="Debit", balance=Decimal("6531.4"), currency="GBP", sort_code="123456")})


def tutorial_push_atm(codat, t):
    # The tutorial's cleared-on date style (7 fractional digits and a Z, which Codat ignores),
    # moved into the window: 6 days back, a day before the feed start date.
    t.atm_date = day(6, at="14:14:14.1057478Z")
    return codat.push(t.where, t.account, [{**ATM, "date": t.atm_date}], timeout_in_minutes=30)


@pytest.fixture
def tutorial(codat):
    """Seed 004's company and hcws connection."""
    c, conn = tutorial_company(codat)
    return SimpleNamespace(company=c.id, conn=conn.id, where={"company_id": c.id, "connection_id": conn.id})


@pytest.fixture
def tutorial_with_account(codat, tutorial):
    tutorial.account = tutorial_account(codat, tutorial.where).id
    return tutorial


@pytest.fixture
def tutorial_linked(codat, tutorial_with_account):
    """The account linked in the QuickBooks sandbox with a feed start date 5 days ago."""
    t = tutorial_with_account
    t.start = datetime.now(timezone.utc).date() - timedelta(days=5)
    t.books, offered = codat.link_in_quickbooks(t.where, [t.account], t.start, "Elaborate Books")
    t.feed = offered[t.account]
    return t


@pytest.fixture
def tutorial_pushed(codat, tutorial_linked):
    """The ATM transaction pushed (t.key)."""
    t = tutorial_linked
    op = tutorial_push_atm(codat, t)
    eq((enum_value(op.status), op.status_code), ("Pending", 202), "status")
    t.key = op.push_operation_key
    return t


def test_seed004_company_has_its_description_and_a_quickbooks_online_bank_feeds_connection(codat):
    c, conn = tutorial_company(codat)  # checks the company and the PendingAuth hcws connection
    eq(c.description, TUTORIAL_DESCRIPTION, "description")


def test_seed004_the_tutorials_v1_bank_feed_account_is_pending(codat, tutorial):
    a = tutorial_account(codat, tutorial.where)
    eq((a.id, a.account_name, D(a.balance), enum_value(a.status)),
       (TUTORIAL_ACCOUNT, "Account 002", Decimal("6531.4"), "pending"), "the account")


def test_seed004_generated_credentials_link_it_in_the_quickbooks_sandbox_with_a_feed_start_date(
        codat, tutorial_with_account):
    t = tutorial_with_account
    t.start = datetime.now(timezone.utc).date() - timedelta(days=5)
    t.books, offered = codat.link_in_quickbooks(t.where, [t.account], t.start, "Elaborate Books")
    t.feed = offered[t.account]
    codat.check_connection(codat.sdk.connections.get(request=t.where), "hcws", status="Linked")
    a = codat.accounts_by_id(t.where)[t.account]
    eq(enum_value(a.status), "connected", "status")
    check((a.feed_start_date or "").startswith(t.start.isoformat()), f"feedStartDate {a.feed_start_date!r}")
    s, feeds = codat.sandbox("GET", f"/sandbox/intuit/api/companies/{t.books}/feeds")
    eq(s, 200, f"feeds {feeds}")
    check(t.feed in [f["id"] for f in feeds["bank_feed_accounts"]], f"the sandbox's feeds: {feeds}")


def test_seed004_push_answers_pending_202_with_the_request_echoed(codat, tutorial_linked):
    t = tutorial_linked
    op = tutorial_push_atm(codat, t)
    check(isinstance(op, shared.CreateBankTransactionsResponse), f"not CreateBankTransactionsResponse: {type(op)}")
    eq((enum_value(op.status), op.status_code), ("Pending", 202), "status")
    eq((op.company_id, op.data_connection_key), (t.company, t.conn), "companyId, dataConnectionKey")
    check(UUID.match(op.push_operation_key), f"pushOperationKey {op.push_operation_key!r}")
    eq(enum_value(op.data_type), "bankTransactions", "dataType")
    eq(op.timeout_in_minutes, 30, "timeoutInMinutes")
    check(op.requested_on_utc, "requestedOnUtc is empty")
    eq(op.data.account_id, t.account, "data.accountId")
    echoed = op.data.transactions[0]
    eq((echoed.id, echoed.date_, echoed.description, D(echoed.amount), D(echoed.balance),
        enum_value(echoed.transaction_type)),
       (ATM["id"], t.atm_date, ATM["description"], ATM["amount"], ATM["balance"], "Atm"), "data.transactions[0]")


def test_seed004_the_push_operation_ends_success_with_one_created_change(codat, tutorial_pushed):
    t = tutorial_pushed
    op = codat.settled(t.company, t.key)
    check(isinstance(op, shared.PushOperation), f"not a PushOperation: {type(op)}")
    succeeded(op, [ATM["id"]])
    eq(op.push_operation_key, t.key, "pushOperationKey")
    eq(op.timeout_in_minutes, 30, "timeoutInMinutes")


def push_coffee(codat, t):
    second = codat.pushed(t.where, t.account, [tx("coffee-1", day(1), -9.11, 8000.00, description="Coffee beans")])
    succeeded(second, ["coffee-1"])
    return second


def test_seed004_list_push_operations_newest_or_oldest_first(codat, tutorial_pushed):
    t = tutorial_pushed
    codat.settled(t.company, t.key)
    second = push_coffee(codat, t)
    ops = codat.sdk.transactions.list_create_operations(request={"company_id": t.company,
                                                                 "order_by": "-requestedOnUtc"})
    check(isinstance(ops, shared.PushOperations), f"not PushOperations: {type(ops)}")
    eq([o.push_operation_key for o in ops.results], [second.push_operation_key, t.key], "newest first")
    eq([enum_value(o.status) for o in ops.results], ["Success", "Success"], "statuses")
    eq((ops.page_number, ops.page_size, ops.total_results), (1, 100, 2), "paging")
    eq(ops.links.self_.href, f"/codat/companies/{t.company}/push", "_links.self")
    oldest = codat.sdk.transactions.list_create_operations(request={"company_id": t.company,
                                                                    "order_by": "requestedOnUtc"})
    eq([o.push_operation_key for o in oldest.results], [t.key, second.push_operation_key], "oldest first")


def test_seed004_quickbooks_ingests_the_transactions_with_running_balances(codat, tutorial_pushed):
    t = tutorial_pushed
    succeeded(codat.settled(t.company, t.key), [ATM["id"]])
    push_coffee(codat, t)
    s, synced = codat.sandbox("POST", f"/sandbox/intuit/api/companies/{t.books}/feeds/{t.feed}/sync")
    eq(s, 200, f"sync {synced}")
    eq(synced["transactions_ingested"], 2, "ingested")
    s, feed = codat.sandbox("GET", f"/sandbox/intuit/api/companies/{t.books}/feeds/{t.feed}")
    eq(s, 200, f"feed {feed}")
    rows = [x for st in reversed(feed["statements"]) for x in st["transactions"]]
    eq([(x["transaction_id"], x["description"], D(x["amount"]), D(x["balance"])) for x in rows], [
        (ATM["id"], ATM["description"], Decimal("7991.59"), Decimal("8009.11")),
        ("coffee-1", "Coffee beans", Decimal("-9.11"), Decimal("8000.00")),
    ], "the feed's transactions")
    eq(D(feed["statements"][0]["closing_balance"]), Decimal("8000.00"), "closing balance")
    eq(D(codat.accounts_by_id(t.where)[t.account].balance), Decimal("8000.00"), "source account balance")


# ---------------------------------------------------------------- QuickBooks' push rules

RULE_ACCOUNTS = ["r-future", "r-window", "r-chrono", "r-older", "r-batch", "r-balance", "r-resend", "r-core",
                 "r-locked", "r-errors", "r-local", "r-sameday"]


@pytest.fixture(scope="module")
def rules(codat):
    """Rules Co: a linked QuickBooks connection with one connected account per rule (balance
    100 each), feed start date 3 days ago."""
    return codat.linked_quickbooks_company("Rules Co", RULE_ACCOUNTS, books_name="Rules Books")


def test_rules_one_linked_connection_connects_every_account_picked(codat):
    # A company of its own: the rule tests below change some of the shared accounts' statuses.
    r = codat.linked_quickbooks_company("Rules Co", RULE_ACCOUNTS, books_name="Rules Books")
    listed = codat.accounts_by_id(r.where)
    eq({a: enum_value(listed[a].status) for a in RULE_ACCOUNTS}, {a: "connected" for a in RULE_ACCOUNTS}, "statuses")


def test_rule_no_future_dated_transactions(codat, rules):
    future = (datetime.now(timezone.utc).date() + timedelta(days=2)).isoformat() + "T10:00:00"
    failed(codat.pushed(rules.where, "r-future", [tx("f1", future, 1, 101)]), "FUTURE_DATED", "f1")
    succeeded(codat.pushed(rules.where, "r-future", [tx("f2", day(1), 1, 101)]), ["f2"])


def test_rule_at_most_7_days_before_the_feed_start_date(codat, rules):
    eight = day(8, base=rules.start)
    seven = day(7, base=rules.start)
    failed(codat.pushed(rules.where, "r-window", [tx("w8", eight, 1, 101)]), "BEFORE_HISTORY_WINDOW", "w8")
    succeeded(codat.pushed(rules.where, "r-window", [tx("w7", seven, 1, 101)]), ["w7"])


def test_rule_transactions_in_chronological_order(codat, rules):
    failed(codat.pushed(rules.where, "r-chrono", [tx("c1", day(2), 1, 101), tx("c2", day(3), 1, 102)]),
           "NOT_CHRONOLOGICAL", "c2")
    succeeded(codat.pushed(rules.where, "r-chrono", [tx("c2", day(3), 1, 101), tx("c1", day(2), 1, 102)]),
              ["c2", "c1"])


def test_rule_none_older_than_the_newest_in_the_account(codat, rules):
    succeeded(codat.pushed(rules.where, "r-older", [tx("o1", day(2), 1, 101)]), ["o1"])
    failed(codat.pushed(rules.where, "r-older", [tx("o0", day(4), 1, 102)]), "OLDER_THAN_STORED", "o0")
    succeeded(codat.pushed(rules.where, "r-older", [tx("o2", day(2, at="13:00:00"), 1, 102)]), ["o2"])


def test_rule_a_local_date_is_future_only_once_it_is_future_everywhere(codat, rules):
    # Seed 004: "Syncing future-dated transactions to QBO is not supported." The SDK's `date` is a
    # local time ("the offset will be ignored and only the local date/time portion will be used"),
    # so an hour ago in New Zealand (UTC+13), sent as Codat recommends (no offset), is not future;
    # past the time in the zone furthest ahead (UTC+14) it is.
    now = datetime.now(timezone.utc)
    nz = (now + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%S")
    succeeded(codat.pushed(rules.where, "r-local", [tx("l1", nz, 1, 101)]), ["l1"])
    beyond = (now + timedelta(hours=15)).strftime("%Y-%m-%dT%H:%M:%S")
    failed(codat.pushed(rules.where, "r-local", [tx("l2", beyond, 1, 102)]), "FUTURE_DATED", "l2")


def test_rule_older_than_the_newest_is_by_the_date(codat, rules):
    # Seed 004: "Bank transactions can't be older than the most recent transaction available on the
    # destination bank account." By the date: later the same day with an earlier time is taken.
    succeeded(codat.pushed(rules.where, "r-sameday", [tx("s1", day(2, at="16:30:00"), 1, 101)]), ["s1"])
    succeeded(codat.pushed(rules.where, "r-sameday", [tx("s2", day(2, at="09:00:00"), 1, 102)]), ["s2"])
    failed(codat.pushed(rules.where, "r-sameday", [tx("s0", day(3, at="23:59:59"), 1, 103)]),
           "OLDER_THAN_STORED", "s0")


def test_rule_at_most_1000_per_push(codat, rules):
    def batch(n, prefix):
        return [tx(f"{prefix}{i}", day(1, at=f"{i // 3600:02}:{i // 60 % 60:02}:{i % 60:02}"), 1, 101 + i)
                for i in range(n)]
    op = codat.pushed(rules.where, "r-batch", batch(1001, "big"))
    eq(enum_value(op.status), "Failed", "1001")
    eq([e.validator_name for e in op.validation.errors], ["BATCH_TOO_LARGE"], "validatorName")
    eq(created(op), [], "nothing Created")
    op = codat.pushed(rules.where, "r-batch", batch(1000, "ok"))
    succeeded(op, [f"ok{i}" for i in range(1000)])
    eq(D(codat.accounts_by_id(rules.where)["r-batch"].balance), Decimal("1100"), "balance after 1000")


def test_rule_the_last_transactions_balance_becomes_the_account_balance(codat, rules):
    eq(D(codat.accounts_by_id(rules.where)["r-balance"].balance), Decimal("100"), "balance before")
    succeeded(codat.pushed(rules.where, "r-balance", [
        tx("b1", day(3), 25.5, 125.5), tx("b2", day(2), -0.5, 125), tx("b3", day(1), 1234.56, 1359.56)]),
        ["b1", "b2", "b3"])
    eq(D(codat.accounts_by_id(rules.where)["r-balance"].balance), Decimal("1359.56"), "balance after")
    succeeded(codat.pushed(rules.where, "r-balance", [tx("b4", day(1, at="13:00:00"), -1359.56, 0)]), ["b4"])
    eq(D(codat.accounts_by_id(rules.where)["r-balance"].balance), Decimal("0"), "balance after a zeroing push")


def test_rule_a_push_to_a_not_connected_account_is_400_source_account_not_connected(codat, rules):
    sdk = codat.sdk
    sdk.source_accounts.create(request={**rules.where, "request_body": v2_account("r-pending")})
    e = expect_error(lambda: codat.push(rules.where, "r-pending", [tx("p1", day(1), 1, 1)]),
                     400, "SOURCE_ACCOUNT_NOT_CONNECTED")
    check("pending" in e.data.error, f"error names the status: {e.data.error}")
    off = sdk.source_accounts.update(request={**rules.where, "account_id": "r-locked", "source_account": {
        "id": "r-locked", "status": "disconnected"}})
    eq(enum_value(off.status), "disconnected", "status")
    expect_error(lambda: codat.push(rules.where, "r-locked", [tx("p2", day(1), 1, 1)]),
                 400, "SOURCE_ACCOUNT_NOT_CONNECTED")


def test_rule_a_resent_identical_transaction_is_not_duplicated_and_different_content_conflicts(codat, rules):
    first = [tx("d1", day(2), 10, 110), tx("d2", day(1), -5, 105)]
    succeeded(codat.pushed(rules.where, "r-resend", first), ["d1", "d2"])
    succeeded(codat.pushed(rules.where, "r-resend", first), [])
    succeeded(codat.pushed(rules.where, "r-resend", [first[1], tx("d3", day(1, at="13:00:00"), 1, 106)]), ["d3"])
    failed(codat.pushed(rules.where, "r-resend", [tx("d3", day(1, at="13:00:00"), 2, 107)]),
           "TRANSACTION_ID_CONFLICT", "d3")


# ---------------------------------------------------------------- refusals and reads

def test_create_is_400_before_any_operation_for_what_cannot_be_a_transaction_and_404_for_unknowns(codat, rules):
    sdk, where, acct = codat.sdk, rules.where, "r-errors"
    before = sdk.transactions.list_create_operations(request={"company_id": rules.company}).total_results
    nameless = {k: v for k, v in tx("x1", day(1), 1, 1).items() if k != "description"}
    e = expect_error(lambda: codat.push(where, acct, [nameless]), 400, "MISSING_FIELD", item="x1")
    check(any(v.validator_name == "MISSING_FIELD" for v in e.data.validation.errors), f"validatorName: {e.body}")
    expect_error(lambda: codat.push(where, acct, [tx("x2", "soon", 1, 1)]), 400, "INVALID_DATE", item="x2")
    expect_error(lambda: codat.push(where, acct, [tx("x3", day(1), 1, 1)], timeout_in_minutes=0),
                 400, "INVALID_TIMEOUT")
    expect_error(lambda: sdk.transactions.create(request={
        **where, "account_id": acct, "create_bank_transactions": {"account_id": "r-core", "transactions": []}}),
        400, "ACCOUNT_ID_MISMATCH")
    expect_error(lambda: codat.push(where, "nope", [tx("x4", day(1), 1, 1)]), 404, "SOURCE_ACCOUNT_NOT_FOUND")
    expect_error(lambda: codat.push({**where, "connection_id": unknown_id()}, acct, [tx("x5", day(1), 1, 1)]),
                 404, "CONNECTION_NOT_FOUND")
    eq(sdk.transactions.list_create_operations(request={"company_id": rules.company}).total_results, before,
       "no push operation was made")


def test_get_create_operation_is_404_for_an_unknown_key_or_another_companys(codat, rules, tutorial_pushed):
    sdk, other_key = codat.sdk, tutorial_pushed.key
    for key in (unknown_id(), "not-a-key", other_key):
        expect_error(lambda: sdk.transactions.get_create_operation(request={
            "company_id": rules.company, "push_operation_key": key}), 404, "PUSH_OPERATION_NOT_FOUND")
    expect_error(lambda: sdk.transactions.get_create_operation(request={
        "company_id": unknown_id(), "push_operation_key": other_key}), 404, "COMPANY_NOT_FOUND")


@pytest.fixture
def with_three_failed_pushes(codat):
    """A linked company of its own whose push operations are three Failed and three Success."""
    r = codat.linked_quickbooks_company("Push List Co", ["l-future", "l-window", "l-chrono"],
                                        books_name="Push List Books")
    future = (datetime.now(timezone.utc).date() + timedelta(days=2)).isoformat() + "T10:00:00"
    failed(codat.pushed(r.where, "l-future", [tx("f1", future, 1, 101)]), "FUTURE_DATED", "f1")
    succeeded(codat.pushed(r.where, "l-future", [tx("f2", day(1), 1, 101)]), ["f2"])
    failed(codat.pushed(r.where, "l-window", [tx("w8", day(8, base=r.start), 1, 101)]), "BEFORE_HISTORY_WINDOW", "w8")
    succeeded(codat.pushed(r.where, "l-window", [tx("w7", day(7, base=r.start), 1, 101)]), ["w7"])
    failed(codat.pushed(r.where, "l-chrono", [tx("c1", day(2), 1, 101), tx("c2", day(3), 1, 102)]),
           "NOT_CHRONOLOGICAL", "c2")
    succeeded(codat.pushed(r.where, "l-chrono", [tx("c2", day(3), 1, 101), tx("c1", day(2), 1, 102)]), ["c2", "c1"])
    return r


def test_list_create_operations_pages_queries_on_status_and_orders(codat, with_three_failed_pushes):
    r, sdk = with_three_failed_pushes, codat.sdk
    req = {"company_id": r.company}
    everything = sdk.transactions.list_create_operations(request=req)
    statuses = [enum_value(o.status) for o in everything.results]
    eq(everything.total_results, len(statuses), "totalResults")
    check(set(statuses) <= {"Success", "Failed"}, f"statuses {statuses}")
    for o in everything.results:
        eq((o.company_id, o.data_connection_key), (r.company, r.conn), "companyId, dataConnectionKey")
    n_failed = statuses.count("Failed")
    page = sdk.transactions.list_create_operations(request={
        **req, "query": "status=Failed", "order_by": "-requestedOnUtc", "page_size": 2, "page": 1})
    eq((page.total_results, len(page.results)), (n_failed, 2), "query status=Failed, page 1 of 2 per page")
    eq({enum_value(o.status) for o in page.results}, {"Failed"}, "only Failed")
    check(page.results[0].requested_on_utc >= page.results[1].requested_on_utc, "newest first")
    check(page.links.next is not None and page.links.previous is None, "page 1's links")
    p2 = sdk.transactions.list_create_operations(request={
        **req, "query": "status=Failed", "order_by": "-requestedOnUtc", "page_size": 2, "page": 2})
    check(page.results[1].requested_on_utc >= p2.results[0].requested_on_utc, "page 2 continues page 1")
    check(p2.links.previous is not None, "page 2's previous")
    expect_error(lambda: sdk.transactions.list_create_operations(request={**req, "query": "status=="}),
                 400, "MALFORMED_QUERY")
    expect_error(lambda: sdk.transactions.list_create_operations(request={**req, "page_size": 0}),
                 400, "INVALID_PAGE_SIZE")
    expect_error(lambda: sdk.transactions.list_create_operations(request={"company_id": unknown_id()}),
                 404, "COMPANY_NOT_FOUND")


def test_get_create_model_is_a_push_option_where_quickbooks_requires_a_description(codat, rules):
    sdk = codat.sdk
    model = sdk.transactions.get_create_model(request={**rules.where, "account_id": "r-core"})
    check(isinstance(model, shared.PushOption), f"not a PushOption: {type(model)}")
    eq((enum_value(model.type), model.required), ("Object", True), "type, required")
    check(model.display_name, "displayName is empty")
    txs = model.properties["transactions"]
    eq(enum_value(txs.type), "Array", "transactions' type")
    for name, required in [("id", True), ("date", True), ("amount", True), ("balance", True), ("description", True),
                           ("counterparty", False)]:
        eq(txs.properties[name].required, required, f"{name}.required")
    expect_error(lambda: sdk.transactions.get_create_model(request={**rules.where, "account_id": "nope"}),
                 404, "SOURCE_ACCOUNT_NOT_FOUND")
