"""Open and finished checkout drafts, for support: who was buying what, and how far they got."""

from django.contrib import admin
from django.http import HttpRequest

from .models import CheckoutDraft


@admin.register(CheckoutDraft)
class CheckoutDraftAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "organization",
        "status",
        "end_customer",
        "domain_prefix",
        "existing_tenant",
        "service_details_done",
        "order",
        "updated_at",
    ]
    list_filter = ["status", "existing_tenant", "service_details_done", "organization__kind", "updated_at"]
    search_fields = [
        "user__email",
        "organization__company_name",
        "end_customer__company_name",
        "domain_prefix",
    ]
    list_select_related = ["user", "organization", "end_customer", "order"]
    date_hierarchy = "updated_at"
    readonly_fields = [
        "user",
        "organization",
        "status",
        "lines",
        "end_customer",
        "customer_confirmed",
        "domain_prefix",
        "existing_tenant",
        "mpn_id",
        "authorization",
        "service_details_done",
        "order",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
