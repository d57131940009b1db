"""The catalog in admin: prices and availability are edited right in the list."""

from django.contrib import admin

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "product_id",
        "sku_id",
        "availability_id",
        "term_duration",
        "billing_cycle",
        "price",
        "currency",
        "is_active",
        "sort_order",
    ]
    list_editable = ["price", "is_active", "sort_order"]
    list_filter = ["is_active", "term_duration", "billing_cycle", "currency"]
    search_fields = ["name", "product_id", "sku_id", "availability_id"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active", "sort_order"]}),
        ("Microsoft catalog item", {"fields": ["product_id", "sku_id", "availability_id"]}),
        ("Term and price", {"fields": ["term_duration", "billing_cycle", "price", "currency"]}),
    ]
