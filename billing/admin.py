"""Orders in admin: what was bought, for whom, and how far provisioning got. Money is never edited here."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = [
        "product_name",
        "catalog_item_id",
        "term_duration",
        "billing_cycle",
        "quantity",
        "unit_price",
        "line_total",
        "subscription_id",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Line total")
    def line_total(self, obj: OrderLine):
        return obj.line_total


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "organization",
        "end_customer",
        "status",
        "attempts",
        "next_attempt_at",
        "tenant",
        "total",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "tenant", "organization__kind", "currency", "created_at"]
    search_fields = [
        "number",
        "organization__company_name",
        "end_customer__company_name",
        "customer_tenant_id",
        "domain_prefix",
        "partner_mpn_id",
        "agreement_email",
        "placed_by__email",
    ]
    list_select_related = ["organization", "end_customer"]
    date_hierarchy = "created_at"
    # admin_password (the new tenant's first admin password) is never shown: it is not in any list below.
    fieldsets = [
        (None, {"fields": ["number", "status", "failure_reason", "progress"]}),
        ("Attempts with Microsoft", {"fields": ["attempts", "last_error", "next_attempt_at"]}),
        (
            "Buyer",
            {"fields": ["organization", "end_customer", "placed_by", "partner_mpn_id", "reseller_tenant_id"]},
        ),
        (
            "Microsoft tenant",
            {"fields": ["tenant", "domain_prefix", "authorization", "customer_tenant_id", "admin_user_name"]},
        ),
        ("Money", {"fields": ["total", "currency"]}),
        (
            "Customer agreement",
            {
                "fields": [
                    "agreement_first_name",
                    "agreement_last_name",
                    "agreement_email",
                    "agreement_phone",
                    "agreement_accepted_at",
                ]
            },
        ),
        ("Billing profile sent to Microsoft", {"fields": ["billing_profile"]}),
        (
            "Record",
            {
                "fields": [
                    "idempotency_key",
                    "created_at",
                    "updated_at",
                    "completed_at",
                    "admin_password_shown_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "number",
        "progress",
        "attempts",
        "last_error",
        "next_attempt_at",
        "organization",
        "end_customer",
        "placed_by",
        "partner_mpn_id",
        "reseller_tenant_id",
        "tenant",
        "domain_prefix",
        "authorization",
        "customer_tenant_id",
        "admin_user_name",
        "total",
        "currency",
        "agreement_first_name",
        "agreement_last_name",
        "agreement_email",
        "agreement_phone",
        "agreement_accepted_at",
        "billing_profile",
        "idempotency_key",
        "created_at",
        "updated_at",
        "completed_at",
        "admin_password_shown_at",
    ]
    inlines = [OrderLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
