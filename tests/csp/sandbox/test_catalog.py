"""The sandbox's catalog: price lists behind their own token audience, the files' pitfalls, availabilities."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import requests

from csp.sandbox import catalog

from .conftest import ALPINE, DISTRIBUTOR_TENANT_ID, Api

AVAILABILITIES = f"/v1/customers/{ALPINE}/products/CFQ7TTC0LH18/skus/0001/availabilities"
SHEET = "/v1.0/sales/pricesheets(Market='{market}',PricesheetView='updatedlicensebased')/$value"


@pytest.fixture
def sales(server) -> Api:
    answer = requests.post(
        f"{server.url}/{DISTRIBUTOR_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "scope": "https://api.partner.microsoft.com/.default",
        },
        timeout=10,
    )
    return Api(server.url, answer.json()["access_token"])


def rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_partner_center_token_is_refused_by_the_price_list_host(api):
    response = api.get(SHEET.format(market="US"))

    assert response.status_code == 401


def test_deflate_gets_a_zip_and_otherwise_a_csv_with_a_bom(sales):
    zipped = sales.get(SHEET.format(market="US"), headers={"Accept-Encoding": "deflate"})
    plain = sales.get(SHEET.format(market="US"), headers={"Accept-Encoding": "identity"})

    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert archive.read(archive.namelist()[0]) == plain.content
    us = rows(plain.content)
    assert len({r["ProductId"] for r in us}) >= 30
    assert {r["Segment"] for r in us} == {"Commercial", "Education", "Charity", "Government"}
    assert {(r["TermDuration"], r["BillingPlan"]) for r in us} >= {
        ("P1M", "Monthly"),
        ("P1Y", "Annual"),
        ("P3Y", "Triennial"),
        ("P1M", "None"),
    }  # noqa: E501
    assert {r["Currency"] for r in us} == {"USD"}
    assert any(r["SkuId"] == "10" for r in us)  # a SKU id that lost its zeros
    assert any(r["Tags"] == "Trial" and r["UnitPrice"] == "0.00" for r in us)


def test_the_european_market_holds_each_row_in_six_currencies(sales):
    dk = rows(sales.get(SHEET.format(market="DK"), headers={"Accept-Encoding": "identity"}).content)

    assert {r["Currency"] for r in dk} == {"EUR", "GBP", "SEK", "NOK", "DKK", "CHF"}


def test_no_future_file_is_a_404_when_next_month_brings_no_change(server, sales):
    assert sales.get(SHEET.format(market="US") + "?timeline=future").status_code == 200
    server.state.config["price_list_future"] = False

    assert sales.get(SHEET.format(market="US") + "?timeline=future").status_code == 404


def test_availability_ids_are_reissued_and_an_old_one_is_refused_in_a_cart(server, api):
    path = AVAILABILITIES
    before = api.get(path).json()["items"][0]["catalogItemId"]
    server.state.config["catalog_generation"] = 1
    after = api.get(path).json()["items"][0]["catalogItemId"]

    assert before != after
    with pytest.raises(Exception, match="not available"):
        catalog.current_offer(server.app, before)


def test_nonprofit_comes_back_only_when_asked_for_by_name(api):
    path = AVAILABILITIES

    segments = {item["segment"] for item in api.get(path).json()["items"]}
    assert "nonprofit" not in segments
    assert {i["segment"] for i in api.get(path + "?targetSegment=nonprofit").json()["items"]} == {"nonprofit"}
