"""End-customers (sub-customers) in admin, findable by company, contact, tenant or reseller."""

from django.contrib import admin

from storefront.accounts.models import Organization

from .models import EndCustomer


@admin.register(EndCustomer)
class EndCustomerAdmin(admin.ModelAdmin):
    list_display = [
        "company_name",
        "reseller",
        "email",
        "city",
        "country",
        "tenant_id",
        "domain",
        "created_at",
    ]
    list_filter = ["country", ("reseller", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = [
        "company_name",
        "first_name",
        "last_name",
        "email",
        "tenant_id",
        "domain",
        "reseller__company_name",
        "reseller__mpn_id",
    ]
    list_select_related = ["reseller"]
    fieldsets = [
        (None, {"fields": ["company_name", "reseller"]}),
        ("Microsoft tenant", {"fields": ["tenant_id", "domain"]}),
        ("Contact", {"fields": ["first_name", "last_name", "email", "phone"]}),
        (
            "Billing address",
            {"fields": ["address_line1", "address_line2", "city", "state", "postal_code", "country"]},
        ),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reseller":
            kwargs["queryset"] = Organization.objects.filter(kind=Organization.Kind.RESELLER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
