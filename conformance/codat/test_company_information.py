"""Company information: the linked platform company's name and currency, and nothing before
the connection is linked."""

from helpers import eq, expect_error


def test_not_available_until_the_connection_is_linked(codat, xero_unlinked):
    expect_error(lambda: codat.sdk.company_information.get(request=xero_unlinked.where),
                   404, "COMPANY_INFORMATION_NOT_AVAILABLE")


def test_the_linked_companys_name_and_currency(codat, xero_linked):
    info = codat.sdk.company_information.get(request=xero_linked.where)
    eq((info.company_name, info.base_currency, info.multicurrency_enabled), ("Mapping Books", "GBP", False), "info")
