"""The few-second in-process copies (common/singleton.py, Django's LocMemCache): no query while fresh, a save in
this process seen at once, unknown keys never remembered."""

import pytest

from common.singleton import ShortLivedRows
from csp.models import CloudServicesSettings
from storefront.catalog.models import Product

pytestmark = pytest.mark.django_db


def test_the_settings_row_is_read_once_and_a_save_is_seen_at_once(django_assert_num_queries):
    CloudServicesSettings.load()
    with django_assert_num_queries(0):
        assert CloudServicesSettings.load().pk == 1

    row = CloudServicesSettings.load()
    row.distributor_name = "Contoso Distribution"
    row.save()

    assert CloudServicesSettings.load().distributor_name == "Contoso Distribution"


def test_rows_are_read_in_one_query_then_kept_and_unknown_keys_asked_again(
    product, django_assert_num_queries
):
    rows = ShortLivedRows("products for this test")
    with django_assert_num_queries(1):
        assert rows.get_many([product.pk, 999999], Product.objects.in_bulk) == {product.pk: product}
    with django_assert_num_queries(0):
        assert rows.get(product.pk, lambda pk: Product.objects.filter(pk=pk).first()) == product
    with django_assert_num_queries(1):
        assert rows.get(999999, lambda pk: Product.objects.filter(pk=pk).first()) is None


def test_forget_drops_the_copies(product, django_assert_num_queries):
    rows = ShortLivedRows("products for this test")
    rows.get_many([product.pk], Product.objects.in_bulk)
    Product.objects.filter(pk=product.pk).update(name="Renamed elsewhere")

    rows.forget()

    with django_assert_num_queries(1):
        assert rows.get_many([product.pk], Product.objects.in_bulk)[product.pk].name == "Renamed elsewhere"
