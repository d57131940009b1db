"""The six hand-typed offers held a price per licence per month; the new model holds the whole term's cost."""

from django.db import migrations

MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}
FAMILIES = {"Microsoft 365": "Microsoft 365", "Exchange": "Exchange", "Microsoft Teams": "Teams"}


def to_whole_term(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.all():
        product.price = product.price * MONTHS.get(product.term_duration, 1)
        product.erp_price = product.price  # unknown until the first price list import replaces it
        product.sku_title = product.sku_title or product.name
        product.family = next((f for prefix, f in FAMILIES.items() if product.name.startswith(prefix)), "")
        product.save(update_fields=["price", "erp_price", "sku_title", "family"])


def to_per_month(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    for product in Product.objects.all():
        product.price = product.price / MONTHS.get(product.term_duration, 1)
        product.save(update_fields=["price"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_price_list_offers_and_pricing")]

    operations = [migrations.RunPython(to_whole_term, to_per_month)]
