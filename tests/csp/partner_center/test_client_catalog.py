"""Catalog and prices: `price_sheet` and `offer_matrix` (the second host and its own token, zip bodies), and the
customer's `customer_sku` and `customer_availabilities`, against documented answers."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from csp.partner_center.auth import DELEGATED_SCOPES, RESOURCE_IDS
from csp.partner_center.exceptions import PermanentPartnerCenterError

from .helpers import (
    API,
    CONTOSO_TENANT,
    CSV,
    SALES,
    SHEET,
    zipped,
)


def test_the_price_list_host_has_its_own_audience_and_app_plus_user_scope():
    assert RESOURCE_IDS["partner_sales"] == "https://api.partner.microsoft.com"
    assert DELEGATED_SCOPES["partner_sales"] == ["https://api.partner.microsoft.com/user_impersonation"]


def test_price_sheet_asks_the_sales_host_with_its_token_for_a_zip_and_unzips_it(client, mocked):
    mocked.get(SHEET, body=zipped("US.csv", CSV), content_type="application/octet-stream")

    assert client.price_sheet("us", timeline="future") == CSV

    request = mocked.calls[0].request
    assert unquote(urlsplit(request.url).path) == urlsplit(SHEET).path
    assert parse_qs(urlsplit(request.url).query) == {"timeline": ["future"]}
    assert request.headers["Authorization"] == "Bearer partner_sales-token-1"
    assert request.headers["Accept-Encoding"] == "deflate"


def test_price_sheet_reads_a_plain_csv_too(client, mocked):
    mocked.get(SHEET, body=CSV, content_type="text/csv")

    assert client.price_sheet("US") == CSV


def test_no_future_price_sheet_is_none_not_an_error(client, mocked):
    mocked.get(SHEET, status=404, json={"code": 404, "description": "Not found"})

    assert client.price_sheet("US", timeline="future") is None


def test_a_damaged_zip_is_a_permanent_error(client, mocked):
    mocked.get(SHEET, body=b"PK\x03\x04 not really a zip")

    with pytest.raises(PermanentPartnerCenterError, match="damaged"):
        client.price_sheet("US")


@pytest.mark.parametrize("market", ["USA", "U1", "", "US'"])
def test_price_sheet_refuses_a_malformed_market_before_any_call(client, mocked, market):
    with pytest.raises(ValueError):
        client.price_sheet(market)
    assert len(mocked.calls) == 0


def test_offer_matrix_names_the_month(client, mocked):
    url = f"{SALES}/v1.0/sales/offermatrix(Month='202612')/$value"
    mocked.get(url, body=zipped("matrix.csv", b"ProductId,SkuId,MinLicenses,MaxLicenses\r\n"))

    assert client.offer_matrix("202612").startswith(b"ProductId")
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer partner_sales-token-1"


def test_customer_availabilities_are_typed_with_their_terms(client, mocked):
    url = f"{API}/v1/customers/{CONTOSO_TENANT}/products/CFQ7TTC0LH18/skus/0001/availabilities"
    mocked.get(
        url,
        json={
            "totalCount": 1,
            "items": [
                {
                    "id": "CFQ7TTC0LH1K",
                    "productId": "CFQ7TTC0LH18",
                    "skuId": "0001",
                    "catalogItemId": "CFQ7TTC0LH18:0001:CFQ7TTC0LH1K",
                    "defaultCurrency": {"code": "USD", "symbol": "$"},
                    "segment": "commercial",
                    "country": "US",
                    "isPurchasable": True,
                    "terms": [
                        {"duration": "P1Y", "billingCycle": "monthly", "description": "1 year, monthly"},
                        {"duration": "P1M", "billingCycle": "monthly", "description": "1 month"},
                    ],
                }
            ],
        },
    )

    (availability,) = client.customer_availabilities(
        CONTOSO_TENANT, "CFQ7TTC0LH18", "0001", segment="commercial"
    )

    assert availability.catalog_item_id == "CFQ7TTC0LH18:0001:CFQ7TTC0LH1K" and availability.currency == "USD"
    assert availability.allows("p1y", "Monthly") and not availability.allows("P1Y", "annual")
    assert parse_qs(urlsplit(mocked.calls[0].request.url).query) == {"targetSegment": ["commercial"]}
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer partner_center-token-1"


def test_customer_sku_reads_the_enforced_attestation(client, mocked):
    mocked.get(
        f"{API}/v1/customers/{CONTOSO_TENANT}/products/CFQ7TTC0LCHC/skus/0002",
        json={
            "id": "0002",
            "productId": "CFQ7TTC0LCHC",
            "title": "Business Premium (no Teams)",
            "minimumQuantity": 1,
            "maximumQuantity": 300,
            "isTrial": False,
            "supportedBillingCycles": ["monthly", "annual"],
            "attestationProperties": {"attestationType": "NoTeamsAttestation", "enforceAttestation": True},
        },
    )

    sku = client.customer_sku(CONTOSO_TENANT, "CFQ7TTC0LCHC", "0002")

    assert sku.enforce_attestation and sku.maximum_quantity == 300
