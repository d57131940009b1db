"""The price list import: what real files do (BOM, zip, lost zeros, duplicates, trials), history, retirement."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import OrderLine
from storefront.catalog.models import OfferPrice, PriceListImport, Product
from storefront.catalog.pricelist import (
    PriceListError,
    offer_matrix_apply,
    price_list_apply,
    price_list_parse,
    sku_id_normalize,
)
from tests.factories import OrderLineFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "price_lists"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def offer(**key) -> Product:
    defaults = {"market": "US", "segment": "commercial", "currency": "USD"}
    return Product.objects.get(**{**defaults, **key})


def test_first_import_adds_every_offer_with_cost_retail_dates_and_segment():
    run = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    assert run.status == PriceListImport.Status.DONE
    assert (run.rows, run.added, run.changed, run.retired) == (10, 8, 0, 0)
    annual = offer(product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="annual")
    assert annual.price == Decimal("72.00") and annual.erp_price == Decimal("86.40")
    assert annual.name == "Microsoft 365 Business Basic" and annual.family == "Microsoft 365"
    assert annual.effective_start.isoformat() == "2026-12-01T00:00:00+00:00"
    monthly = offer(product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="monthly")
    assert monthly.price == Decimal("75.60")  # an annual term billed monthly is its own, dearer, offer
    assert offer(product_id="CFQ7TTC0LH18", term_duration="P1Y", billing_cycle="annual", segment="education")
    # The price list's "Charity" is the catalog's nonprofit segment.
    assert offer(product_id="CFQ7TTC0LH18", term_duration="P1Y", billing_cycle="annual", segment="nonprofit")
    assert OfferPrice.objects.count() == 8


def test_lost_leading_zeros_are_restored_on_all_digit_sku_ids():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    assert offer(product_id="CFQ7TTC0ABCD").sku_id == "0010"
    assert sku_id_normalize(" 1 ") == "0001" and sku_id_normalize("DZH318Z0BQ3Q") == "DZH318Z0BQ3Q"


def test_mid_month_duplicates_keep_the_latest_effective_start_whatever_the_row_order():
    run = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    assert offer(product_id="CFQ7TTC0POWR").price == Decimal("164.64")
    assert "1 duplicate rows" in run.message


def test_trials_are_imported_as_trials_with_billing_plan_none():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    trial = offer(product_id="CFQ7TTC0LH18", sku_id="0002")
    assert trial.is_trial and trial.billing_cycle == "none" and trial.price == 0


def test_rows_that_cannot_be_offers_are_skipped_and_reported():
    run = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    assert not Product.objects.filter(product_id="CFQ7TTC0ODDD").exists()
    assert "1 rows skipped" in run.message and "term 'P2Y'" in run.message


def test_a_file_that_is_not_a_price_list_is_refused_with_the_missing_columns():
    with pytest.raises(PriceListError, match="not a new-commerce price list"):
        price_list_apply(market="US", timeline="current", data=fixture("not_a_price_list.csv"))
    assert not Product.objects.exists()


def test_the_same_file_again_is_skipped_by_its_hash():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    with CaptureQueriesContext(connection) as queries:
        again = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    assert again.status == PriceListImport.Status.UNCHANGED
    assert len(queries) == 2  # the last import's hash, and the row saying the check ran
    forced = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"), force=True)
    assert forced.status == PriceListImport.Status.DONE and forced.unchanged == 8 and forced.changed == 0


def test_next_month_changes_prices_keeps_history_and_retires_without_deleting():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))
    gone = offer(product_id="CFQ7TTC0LH18", term_duration="P1M", billing_cycle="monthly")
    line = OrderLineFactory(product=gone)

    run = price_list_apply(market="US", timeline="current", data=fixture("us_month2.csv"))

    assert (run.added, run.changed, run.retired) == (1, 1, 1)
    gone.refresh_from_db()
    assert not gone.is_active and gone.retired_at is not None
    assert OrderLine.objects.get(pk=line.pk).product_id == gone.pk  # the order still points at its offer
    annual = offer(product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="annual")
    assert annual.price == Decimal("75.00")
    assert list(annual.price_history.order_by("recorded_at").values_list("price", flat=True)) == [
        Decimal("72.00"),
        Decimal("75.00"),
    ]


def test_an_offer_back_on_the_list_is_active_again():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))
    price_list_apply(market="US", timeline="current", data=fixture("us_month2.csv"))

    run = price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    back = offer(product_id="CFQ7TTC0LH18", term_duration="P1M", billing_cycle="monthly")
    assert back.is_active and back.retired_at is None
    assert run.changed >= 1


def test_the_future_timeline_records_next_months_prices_without_touching_offers():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    run = price_list_apply(market="US", timeline="future", data=fixture("us_month2.csv"))

    assert (run.added, run.changed, run.retired) == (1, 1, 1)
    annual = offer(product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="annual")
    assert annual.price == Decimal("72.00")
    assert annual.price_history.get(is_future=True).price == Decimal("75.00")
    assert not Product.objects.filter(product_id="CFQ7TTC0COPI").exists()
    assert Product.objects.filter(is_active=False).count() == 0


def test_a_european_file_keeps_one_offer_per_currency():
    run = price_list_apply(market="DK", timeline="current", data=fixture("dk_multi_currency.csv"))

    assert run.added == 6
    assert set(Product.objects.filter(market="DK").values_list("currency", flat=True)) == {
        "EUR", "GBP", "SEK", "NOK", "DKK", "CHF",
    }  # fmt: skip


def test_markets_do_not_retire_each_others_offers():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))
    price_list_apply(market="DK", timeline="current", data=fixture("dk_multi_currency.csv"))

    assert Product.objects.filter(market="US", is_active=False).count() == 0


def test_the_offer_matrix_sets_seat_limits_and_allowed_countries():
    price_list_apply(market="US", timeline="current", data=fixture("us_month1.csv"))

    changed = offer_matrix_apply(data=fixture("offer_matrix.csv"))

    basic = offer(product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="annual")
    assert changed == 5  # every offer of product CFQ7TTC0LH18 SKU 0001 ("1" in the file)
    assert (basic.min_quantity, basic.max_quantity, basic.allowed_countries) == (1, 300, "US;CA")


def _big_price_list(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ProductTitle", "ProductId", "SkuId", "TermDuration", "BillingPlan", "Currency", "UnitPrice",
                     "ERP Price", "Segment", "EffectiveStartDate"])  # fmt: skip
    terms = [
        ("P1M", "Monthly"),
        ("P1Y", "Monthly"),
        ("P1Y", "Annual"),
        ("P3Y", "Triennial"),
        ("P3Y", "Annual"),
    ]
    for n in range(rows):
        term, plan = terms[n % 5]
        writer.writerow([f"Product {n // 5}", f"CFQ7TTC0{n // 5:04d}", "0001", term, plan, "USD", "10.00", "12.00",
                         "Commercial", "2026-12-01T00:00:00Z"])  # fmt: skip
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def test_five_thousand_rows_import_in_a_bounded_number_of_queries():
    with CaptureQueriesContext(connection) as first:
        run = price_list_apply(market="US", timeline="current", data=_big_price_list(5000))
    assert run.added == 5000
    assert len(first) <= 20  # bulk statements of 1,000 rows, not one per row

    changed = _big_price_list(5000).replace(b",10.00,", b",11.00,")
    with CaptureQueriesContext(connection) as second:
        run = price_list_apply(market="US", timeline="current", data=changed)
    assert run.changed == 5000
    assert len(second) <= 20


def test_the_command_imports_from_the_sandbox_and_reports_what_changed(sandbox, capsys):
    call_command("import_price_list", "--market", "us")

    out = capsys.readouterr().out
    assert "US imported:" in out and "added" in out and "retired" in out
    assert Product.objects.filter(market="US", is_active=True).count() > 300
    assert Product.objects.filter(market="US", segment="education").exists()
    assert Product.objects.filter(market="US", max_quantity=300).exists()  # the offer matrix ran
    sales_calls = [entry for entry in sandbox.state.request_log if "/v1.0/sales/" in entry["target"]]
    assert len(sales_calls) == 2  # the price list and the offer matrix, once each


def test_the_command_refuses_a_malformed_market(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="two-letter"):
        call_command("import_price_list", "--market", "USA")


def test_price_list_parse_reads_header_names_in_any_case_and_cp1252():
    data = b"productid,SKUID,termduration,BILLINGPLAN,currency,unitprice,producttitle\r\n"
    data += "CFQ7TTC0LH18,1,P1Y,Annual,usd,72.00,Caf\xe9 365\r\n".encode("cp1252")

    parsed = price_list_parse(data)

    (row,) = parsed.offers.values()
    assert (row.sku_id, row.currency, row.name) == ("0001", "USD", "Café 365")
