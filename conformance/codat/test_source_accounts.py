"""Source (bank feed) accounts: create (V2 and v1 models), create_batch, list, update, delete,
credentials, the balance lock while connected, and the connection OTP. Each test has a company
of its own and creates the accounts it reads."""

from decimal import Decimal

import pytest
from codat_bankfeeds.models import shared

from helpers import D, check, enum_value, eq, expect_error, unknown_id, v2_account

# The accounts these tests create, in the order the list test expects them.
ALL_IDS = ["ac-001", "ac-rt", "acc-v1", "sav-1", "card-1", "sav-2", "sav-3"]


@pytest.fixture
def sa(codat):
    """Source Accounts Co with a QuickBooks connection and no account yet."""
    return codat.new_company("Source Accounts Co")


def create_seed_001(sdk, where):
    """Seed 001's V2 account."""
    return sdk.source_accounts.create(request={**where, "request_body": {
        "id": "ac-001", "account_name": "account-001", "account_type": "checking", "account_number": "12345670",
        "sort_code": "12-34-56", "currency": "USD", "balance": Decimal("4002")}})


def create_routed(sdk, where):
    """A V2 account with routingInfo and accountInfo."""
    return sdk.source_accounts.create(request={**where, "request_body": v2_account(
        "ac-rt", routing_info={"bank_code": "021000021", "type": "rtn"},
        account_info={"description": "Operating account", "nickname": "Ops", "available_balance": Decimal("3.5")})})


def create_v1(sdk, where):
    """The v1 model, with only what it needs."""
    return sdk.source_accounts.create(request={**where, "request_body": {
        "id": "acc-v1", "account_type": "Debit", "currency": "GBP", "balance": Decimal("1234.50")}})


def create_batch_with_a_duplicate(sdk, where):
    """sav-1, ac-001 (refused when it exists), card-1."""
    return sdk.source_accounts.create_batch(request={**where, "request_body": [
        v2_account("sav-1", "Savings", account_type="savings"),
        v2_account("ac-001"),
        v2_account("card-1", "Card", -12.5, account_type="creditCard", account_number="4111"),
    ]})


def create_batch_all_new(sdk, where):
    return sdk.source_accounts.create_batch(request={**where, "request_body": [
        v2_account("sav-2", "Savings 2", 10), v2_account("sav-3", "Savings 3", 20.25)]})


def test_create_v2_account_is_pending_with_no_feed_start_date(codat, sa):
    a = create_seed_001(codat.sdk, sa.where)
    # The SDK's create answer is Union[SourceAccount, SourceAccountV2]: a V2 account without
    # routingInfo/accountInfo has exactly v1's fields, so the SDK may pick either model.
    check(isinstance(a, (shared.SourceAccountV2, shared.SourceAccount)), f"not a source account: {type(a)} {a}")
    eq((a.id, a.account_name, enum_value(a.account_type), a.account_number, a.sort_code, a.currency),
       ("ac-001", "account-001", "checking", "12345670", "12-34-56", "USD"), "the account")
    eq(D(a.balance), Decimal("4002"), "balance")
    eq(enum_value(a.status), "pending", "status")
    eq(a.feed_start_date, None, "feedStartDate")
    routed = create_routed(codat.sdk, sa.where)
    check(isinstance(routed, shared.SourceAccountV2), f"not a SourceAccountV2: {type(routed)} {routed}")
    eq((routed.routing_info.bank_code, enum_value(routed.routing_info.type)), ("021000021", "rtn"), "routingInfo")
    eq((routed.account_info.nickname, D(routed.account_info.available_balance)), ("Ops", Decimal("3.5")),
       "accountInfo")
    eq(enum_value(routed.status), "pending", "status")


def test_create_v1_model_needs_only_an_id_and_400_for_duplicate_id_bad_currency_or_no_id(codat, sa):
    sdk, where = codat.sdk, sa.where
    create_seed_001(sdk, where)
    create_routed(sdk, where)
    v1 = create_v1(sdk, where)
    eq((v1.id, v1.account_type, v1.currency, D(v1.balance)), ("acc-v1", "Debit", "GBP", Decimal("1234.5")), "v1")
    eq(enum_value(v1.status), "pending", "status")
    expect_error(lambda: sdk.source_accounts.create(request={**where, "request_body": v2_account("ac-001")}),
                 400, "SOURCE_ACCOUNT_EXISTS")
    expect_error(lambda: sdk.source_accounts.create(request={**where, "request_body": {
        "id": "x", "currency": "XXY"}}), 400, "INVALID_CURRENCY")
    expect_error(lambda: sdk.source_accounts.create(request={**where, "request_body": {
        "id": "x", "currency": "USD", "balance": Decimal("1.001")}}), 400, "TOO_MANY_DECIMALS")
    # The SDK's models require `id`, so a body without one is built past its validation.
    idless = shared.SourceAccountPrototype.model_construct(account_name="no id", currency="USD")
    expect_error(lambda: sdk.source_accounts.create(request={**where, "request_body": idless}),
                 400, "MISSING_FIELD")
    eq(sorted(codat.accounts_by_id(where)), ["ac-001", "ac-rt", "acc-v1"], "nothing created by the refusals")


def test_create_batch_is_207_with_a_result_per_account_when_one_is_refused_and_201_when_none(codat, sa):
    sdk, where = codat.sdk, sa.where
    create_seed_001(sdk, where)
    results = create_batch_with_a_duplicate(sdk, where)
    eq([r.source_account_id for r in results], ["sav-1", "ac-001", "card-1"], "sourceAccountId per item")
    eq([str(r.result.status_code) for r in results], ["201", "400", "201"], "statusCode per item")
    check(results[1].result.error, f"the refused item has no error: {results[1]}")
    card = results[2].result.account
    eq((card.id, enum_value(card.account_type), D(card.balance)), ("card-1", "creditCard", Decimal("-12.5")), "card")
    all_new = create_batch_all_new(sdk, where)
    eq([(r.source_account_id, str(r.result.status_code)) for r in all_new], [("sav-2", "201"), ("sav-3", "201")],
       "201 for every item")
    eq(D(all_new[1].result.account.balance), Decimal("20.25"), "balance")


def test_list_is_a_bare_array_of_every_account_in_creation_order(codat, sa):
    sdk, where = codat.sdk, sa.where
    for create in (create_seed_001, create_routed, create_v1, create_batch_with_a_duplicate, create_batch_all_new):
        create(sdk, where)
    listed = sdk.source_accounts.list(request=where)
    check(isinstance(listed, list), f"not a list: {type(listed)}")
    eq([a.id for a in listed], ALL_IDS, "ids")
    eq({enum_value(a.status) for a in listed}, {"pending"}, "statuses")
    expect_error(lambda: sdk.source_accounts.list(request={**where, "connection_id": unknown_id()}),
                 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: sdk.source_accounts.list(request={**where, "company_id": unknown_id()}),
                 404, "COMPANY_NOT_FOUND")


def test_update_changes_name_always_and_balance_while_pending_refuses_other_changes_400_404(codat, sa):
    sdk, where = codat.sdk, sa.where
    create_seed_001(sdk, where)
    one = {**where, "account_id": "ac-001"}
    # Seed 001: "It's only possible to update the accountName field", its example sending the
    # whole account back: the other fields as they are are accepted, a change is refused.
    got = sdk.source_accounts.update(request={**one, "source_account": {
        "id": "ac-001", "account_name": "Operating", "account_type": "checking", "account_number": "12345670",
        "sort_code": "12-34-56", "currency": "USD", "balance": Decimal("99.99")}})
    check(isinstance(got, shared.SourceAccount), f"not a SourceAccount: {type(got)}")
    eq((got.account_name, got.account_type, got.account_number, got.currency, D(got.balance)),
       ("Operating", "checking", "12345670", "USD", Decimal("99.99")), "name and balance changed, the rest kept")
    for field, value in (("account_type", "Credit"), ("account_number", "999"), ("currency", "EUR")):
        expect_error(lambda: sdk.source_accounts.update(request={**one, "source_account": {
            "id": "ac-001", "account_name": "Renamed", field: value}}), 400, "READ_ONLY_FIELD")
    eq(codat.accounts_by_id(where)["ac-001"].account_name, "Operating", "a refused update changes nothing")
    eq(enum_value(got.status), "pending", "status")
    eq(D(codat.accounts_by_id(where)["ac-001"].balance), Decimal("99.99"), "listed balance")
    # Sending the current status back (as a read-modify-write of the v1 model does) is no change.
    same = sdk.source_accounts.update(request={**one, "source_account": {"id": "ac-001", "status": "pending"}})
    eq(enum_value(same.status), "pending", "status sent unchanged")
    for status in ("connected", "connecting", "unknown"):
        expect_error(lambda: sdk.source_accounts.update(request={**one, "source_account": {
            "id": "ac-001", "status": status}}), 400, "INVALID_STATUS")
    expect_error(lambda: sdk.source_accounts.update(request={**one, "source_account": {"id": "other"}}),
                 400, "ID_MISMATCH")
    expect_error(lambda: sdk.source_accounts.update(request={**where, "account_id": "nope",
                 "source_account": {"id": "nope", "account_name": "x"}}), 404, "SOURCE_ACCOUNT_NOT_FOUND")


def test_update_refuses_a_new_balance_while_connected_but_takes_the_name_same_balance_and_status(codat):
    r = codat.linked_quickbooks_company("Balance Lock Co", ["r-core"], books_name="Balance Lock Books")
    one = {**r.where, "account_id": "r-core"}
    expect_error(lambda: codat.sdk.source_accounts.update(request={**one, "source_account": {
        "id": "r-core", "balance": Decimal("5")}}), 400, "BALANCE_LOCKED")
    got = codat.sdk.source_accounts.update(request={**one, "source_account": {
        "id": "r-core", "account_name": "Core", "balance": Decimal("100"), "status": "connected"}})
    eq((got.account_name, enum_value(got.status), D(got.balance)), ("Core", "connected", Decimal("100")), "renamed")


def test_delete_is_204_then_404_source_account_not_found(codat, sa):
    sdk, where = codat.sdk, sa.where
    create_seed_001(sdk, where)
    create_batch_all_new(sdk, where)
    one = {**where, "account_id": "sav-2"}
    eq(sdk.source_accounts.delete(request=one), None, "delete returns")
    expect_error(lambda: sdk.source_accounts.delete(request=one), 404, "SOURCE_ACCOUNT_NOT_FOUND")
    check("sav-2" not in codat.accounts_by_id(where), "still listed")
    expect_error(lambda: sdk.source_accounts.delete(request={
        **where, "connection_id": unknown_id(), "account_id": "ac-001"}), 404, "CONNECTION_NOT_FOUND")


def test_generate_credentials_makes_a_new_set_each_call_and_delete_credentials_revokes_all(codat, sa):
    sdk, where = codat.sdk, sa.where
    sets = [codat.generate_credentials(where) for _ in range(3)]
    for c in sets:
        check(isinstance(c, shared.BankAccountCredentials), f"not BankAccountCredentials: {type(c)}")
        check(c.username and c.password, f"empty credentials {c}")
    eq(len({c.username for c in sets}), 3, "three usernames")
    eq(len({c.password for c in sets}), 3, "three passwords")
    s, books = codat.sandbox("POST", "/sandbox/intuit/api/companies", {"name": "Revoked Books"})
    books = books["company"]["id"]

    def try_link(c, password=None):
        return codat.sandbox("POST", "/sandbox/intuit/api/link/credentials",
                             {"company_id": books, "username": c.username, "password": password or c.password})

    s, body = try_link(sets[0], "bfpw_wrong")
    check(s >= 400 and body.get("error_code") == "INVALID_CREDENTIALS", f"a wrong password: {s} {body}")
    eq(sdk.source_accounts.delete_credentials(request=where), None, "delete_credentials returns")
    for c in sets:
        s, body = try_link(c)
        check(s >= 400 and body.get("error_code") == "INVALID_CREDENTIALS", f"revoked set still links: {s} {body}")
    fresh = codat.generate_credentials(where)
    check(fresh.username not in {c.username for c in sets}, "a new set after revoking")
    unknown = {**where, "connection_id": unknown_id()}
    expect_error(lambda: codat.generate_credentials(unknown), 404, "CONNECTION_NOT_FOUND")
    expect_error(lambda: sdk.source_accounts.delete_credentials(request=unknown), 404, "CONNECTION_NOT_FOUND")
    sdk.source_accounts.delete_credentials(request=where)


def test_generate_otp_drives_xeros_redirect_link(codat, xero_unlinked):
    """The connection's OTP (bfotp_…, with an expiry) links the Xero connection through the
    sandbox's redirect flow once the FI has configured its Xero bank feed."""
    otp = codat.link_in_xero_by_otp(xero_unlinked)  # checks the OTP and every step of the link
    check(otp.otp.startswith("bfotp_") and otp.expiry, f"otp {otp}")
    codat.check_connection(codat.sdk.connections.get(request=xero_unlinked.where), "gbol", status="Linked")
    # Only what was picked in Xero is connected; the other account waits for a mapping.
    statuses = {a.id: enum_value(a.status) for a in codat.sdk.source_accounts.list(request=xero_unlinked.where)}
    eq(statuses["cur-1"], "connected", "the account picked in Xero")

