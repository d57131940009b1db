"""Admin for GDAP role templates, GDAP requests and Partner Center webhook deliveries."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from common.admin import ReadOnlyModelAdmin
from common.errors import StorefrontError
from common.ids import is_guid
from csp import gdap, tasks, webhooks
from csp.models import GdapRequest, GdapRoleTemplate, WebhookDelivery
from csp.partner_center.exceptions import PartnerCenterError


class GdapRoleTemplateForm(forms.ModelForm):
    class Meta:
        model = GdapRoleTemplate
        fields = [
            "name",
            "description",
            "roles",
            "security_group_id",
            "security_group_name",
            "is_default",
            "is_active",
        ]

    def clean_security_group_id(self):
        value = self.cleaned_data["security_group_id"].strip().lower()
        if value and not is_guid(value):
            raise forms.ValidationError(
                "Enter the object id of one of your Entra security groups (a GUID, from the Microsoft Entra admin "
                "center > Groups)."
            )
        return value

    def clean_roles(self):
        roles = self.cleaned_data["roles"]
        if not isinstance(roles, list) or not roles:
            raise forms.ValidationError(
                'Enter a list such as [{"name": "Directory Readers", "role_definition_id": "..."}].'
            )
        for role in roles:
            if not isinstance(role, dict) or not str(role.get("name", "")).strip():
                raise forms.ValidationError("Every role needs a name.")
            if not is_guid(str(role.get("role_definition_id", ""))):
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
    list_display = ["name", "role_names", "security_group", "is_default", "is_active", "updated_at"]
    list_filter = ["is_default", "is_active"]
    search_fields = ["name"]

    @admin.display(description="Roles")
    def role_names(self, obj: GdapRoleTemplate) -> str:
        return ", ".join(r.get("name", "") for r in obj.roles or [])

    @admin.display(description="Security group")
    def security_group(self, obj: GdapRoleTemplate) -> str:
        if not obj.security_group_id:
            return "not set: nobody would get these roles"
        return obj.security_group_name or obj.security_group_id

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.is_default:
            GdapRoleTemplate.objects.exclude(pk=obj.pk).update(is_default=False)


class GdapRequestForm(forms.Form):
    """What staff choose; the rules (tenant held, template, limits, one open request) are the service's."""

    organization = forms.ModelChoiceField(
        queryset=GdapRequest._meta.get_field("organization").remote_field.model.objects.all(),
        help_text="The reseller whose customer the tenant is, or the direct customer itself.",
    )
    customer_tenant_id = forms.CharField(
        label="Customer tenant id",
        max_length=64,
        help_text="A tenant the organisation holds (a verified authorization or a completed order).",
    )
    role_template = forms.ModelChoiceField(
        queryset=GdapRoleTemplate.objects.none(),
        empty_label=None,
        help_text="Its roles go to the template's security group once the customer approves.",
    )
    duration_days = forms.IntegerField(
        label="Duration (days)", initial=gdap.DEFAULT_DURATION_DAYS, help_text="From 1 to 730 days."
    )
    auto_extend = forms.BooleanField(
        label="Extend automatically by 180 days when it ends",
        required=False,
        help_text="Not available when the roles include Global Administrator.",
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the distributor needs access (for example, a support case for a reseller's customer).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role_template"].queryset = gdap.gdap_role_templates()
        default = gdap.gdap_role_templates().filter(is_default=True).first()
        if default is not None:
            self.fields["role_template"].initial = default.pk


@admin.register(GdapRequest)
class GdapRequestAdmin(ReadOnlyModelAdmin):
    """Staff request the distributor's GDAP here; the worker creates it at Microsoft and follows it until the
    roles are given to the template's security group."""

    list_display = [
        "display_name",
        "organization",
        "customer_name",
        "status",
        "access_assignment_status",
        "created_at",
        "roles_active_at",
    ]
    list_filter = ["status", "access_assignment_status", "role_template"]
    search_fields = ["display_name", "customer_name", "customer_tenant_id", "relationship_id", "request_id"]
    date_hierarchy = "created_at"
    actions = ["refresh_status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("csp.add_gdaprequest")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """The request form: the service decides, then the worker sends it to Microsoft (no call in this view)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {
            "organization": request.GET.get("organization"),
            "customer_tenant_id": request.GET.get("tenant"),
        }
        form = GdapRequestForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                gdap_request = gdap.gdap_request_create(
                    organization_id=data["organization"].pk,
                    customer_tenant_id=data["customer_tenant_id"],
                    role_template_id=data["role_template"].pk,
                    user_id=request.user.pk,
                    duration_days=data["duration_days"],
                    auto_extend=data["auto_extend"],
                    reason=data["reason"],
                )
            except StorefrontError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                # If the broker is down, the beat's follow pass sends it at its first check: nothing is lost.
                request_id = gdap_request.pk
                transaction.on_commit(lambda: tasks.gdap_request_submit.delay(request_id), robust=True)
                self.message_user(
                    request,
                    f"{gdap_request.display_name} is being created at Microsoft; its approval link will be "
                    "emailed to you and shown here.",
                )
                return redirect("admin:csp_gdaprequest_change", gdap_request.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Request admin access (GDAP)",
            "form": form,
            "opts": self.model._meta,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/csp/gdaprequest/request_form.html", context)

    @admin.action(description="Refresh status from Microsoft")
    def refresh_status(self, request: HttpRequest, queryset):
        for gdap_request in queryset:
            try:
                refreshed = gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk, scheduled=False)
            except StorefrontError as error:
                self.message_user(request, f"{gdap_request}: {error.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{refreshed.display_name}: {refreshed.get_status_display()}, access assignment "
                f"{refreshed.get_access_assignment_status_display().lower()}",
            )


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
