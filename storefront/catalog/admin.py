"""The catalog in admin: offers from Microsoft's price list (read mostly), the imports, and the prices the
distributor controls (segment margins, product and SKU overrides, price profiles, buyers' terms)."""

from django.contrib import admin

from common.admin import SingletonModelAdmin

from .models import (
    BuyerTerms,
    CatalogSettings,
    OfferPrice,
    PriceListImport,
    PriceProfile,
    PriceRule,
    Product,
    SegmentMargin,
)


class OfferPriceInline(admin.TabularInline):
    model = OfferPrice
    extra = 0
    can_delete = False
    fields = [
        "recorded_at",
        "price",
        "erp_price",
        "effective_start",
        "effective_end",
        "is_future",
        "price_list",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "sku_title",
        "product_id",
        "sku_id",
        "segment",
        "term_duration",
        "billing_cycle",
        "price",
        "erp_price",
        "currency",
        "market",
        "is_active",
    ]
    list_editable = ["is_active"]
    list_filter = [
        "is_active",
        "market",
        "currency",
        "segment",
        "family",
        "term_duration",
        "billing_cycle",
        "is_trial",
    ]
    search_fields = ["name", "sku_title", "product_id", "sku_id"]
    list_per_page = 100
    readonly_fields = ["retired_at", "availability_id"]
    inlines = [OfferPriceInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "sku_title",
                    "description",
                    "family",
                    "publisher",
                    "is_active",
                    "sort_order",
                ]
            },
        ),
        (
            "Microsoft offer",
            {
                "fields": [
                    "market",
                    "segment",
                    "product_id",
                    "sku_id",
                    "availability_id",
                    "term_duration",
                    "billing_cycle",
                    "is_trial",
                ]
            },
        ),
        (
            "Microsoft's prices (whole term)",
            {"fields": ["price", "erp_price", "currency", "effective_start", "effective_end"]},
        ),
        (
            "Offer matrix",
            {"fields": ["min_quantity", "max_quantity", "prerequisites", "allowed_countries", "retired_at"]},
        ),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # order lines point at offers: retire them (untick Active) instead


@admin.register(PriceListImport)
class PriceListImportAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "market",
        "timeline",
        "status",
        "rows",
        "added",
        "changed",
        "retired",
        "unchanged",
    ]
    list_filter = ["market", "timeline", "status"]
    readonly_fields = [f.name for f in PriceListImport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CatalogSettings)
class CatalogSettingsAdmin(SingletonModelAdmin):
    fieldsets = [
        ("Markets", {"fields": ["markets", "storefront_market", "storefront_currency"]}),
        ("Direct customers' price", {"fields": ["direct_price_basis", "direct_margin_percent"]}),
    ]


@admin.register(SegmentMargin)
class SegmentMarginAdmin(admin.ModelAdmin):
    list_display = ["segment", "margin_percent"]
    list_editable = ["margin_percent"]


class PriceRuleInline(admin.TabularInline):
    model = PriceRule
    extra = 1
    fields = ["product_id", "sku_id", "margin_percent"]


@admin.register(PriceProfile)
class PriceProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "margin_percent"]
    inlines = [PriceRuleInline]


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ["product_id", "sku_id", "profile", "margin_percent"]
    list_filter = ["profile"]
    search_fields = ["product_id", "sku_id"]


@admin.register(BuyerTerms)
class BuyerTermsAdmin(admin.ModelAdmin):
    list_display = [
        "organization",
        "price_profile",
        "qualified_education",
        "qualified_nonprofit",
        "qualified_government",
    ]
    list_filter = ["price_profile", "qualified_education", "qualified_nonprofit", "qualified_government"]
    search_fields = ["organization__company_name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["updated_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
