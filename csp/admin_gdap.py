"""Admin for GDAP role templates, GDAP requests and Partner Center webhook deliveries."""

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse

from csp import gdap, webhooks
from csp.admin import ReadOnlyModelAdmin
from csp.errors import StorefrontError
from csp.models import GdapRequest, GdapRoleTemplate, WebhookDelivery
from csp.partner_center.exceptions import PartnerCenterError

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class GdapRoleTemplateForm(forms.ModelForm):
    class Meta:
        model = GdapRoleTemplate
        fields = ["name", "description", "roles", "is_default", "is_active"]

    def clean_roles(self):
        roles = self.cleaned_data["roles"]
        if not isinstance(roles, list) or not roles:
            raise forms.ValidationError(
                'Enter a list such as [{"name": "Directory Readers", "role_definition_id": "..."}].'
            )
        for role in roles:
            if not isinstance(role, dict) or not str(role.get("name", "")).strip():
                raise forms.ValidationError("Every role needs a name.")
            if not GUID_RE.match(str(role.get("role_definition_id", ""))):
                raise forms.ValidationError(
                    f"{role.get('name')}: the role definition id must be an Entra role template id (a GUID)."
                )
        return [
            {"name": str(r["name"]).strip(), "role_definition_id": str(r["role_definition_id"]).lower()}
            for r in roles
        ]


@admin.register(GdapRoleTemplate)
class GdapRoleTemplateAdmin(admin.ModelAdmin):
    form = GdapRoleTemplateForm
    list_display = ["name", "role_names", "is_default", "is_active", "updated_at"]
    list_filter = ["is_default", "is_active"]
    search_fields = ["name"]

    @admin.display(description="Roles")
    def role_names(self, obj: GdapRoleTemplate) -> str:
        return ", ".join(r.get("name", "") for r in obj.roles or [])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.is_default:
            GdapRoleTemplate.objects.exclude(pk=obj.pk).update(is_default=False)


@admin.register(GdapRequest)
class GdapRequestAdmin(ReadOnlyModelAdmin):
    list_display = ["display_name", "organization", "customer_name", "status", "created_at", "activated_at"]
    list_filter = ["status", "role_template"]
    search_fields = ["display_name", "customer_name", "customer_tenant_id", "relationship_id", "request_id"]
    date_hierarchy = "created_at"
    actions = ["refresh_status"]

    @admin.action(description="Refresh status from Microsoft")
    def refresh_status(self, request: HttpRequest, queryset):
        for gdap_request in queryset:
            try:
                refreshed = gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk, scheduled=False)
            except StorefrontError as error:
                self.message_user(request, f"{gdap_request}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{refreshed.display_name}: {refreshed.get_status_display()}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ["received_at", "event_name", "signature_valid", "status", "resource_name", "processed_at"]
    list_filter = ["event_name", "signature_valid", "status"]
    search_fields = ["resource_uri", "resource_name", "body"]
    date_hierarchy = "received_at"
    actions = ["register_webhook"]

    @admin.action(description="Register the Partner Center webhook for this storefront (selection ignored)")
    def register_webhook(self, request: HttpRequest, queryset):
        url = settings.STOREFRONT_BASE_URL.rstrip("/") + reverse("csp:partner-center-webhook")
        try:
            registered, events = webhooks.webhook_register(url=url)
        except PartnerCenterError as error:
            self.message_user(request, f"Partner Center refused the registration: {error}", messages.ERROR)
            return
        self.message_user(request, f"Registered {registered} for {', '.join(events)}")
