"""Admin for the distributor's Partner Center connection, tenant authorizations and the reseller network."""

import logging

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import TemplateResponse

from common.admin import ReadOnlyModelAdmin, SingletonModelAdmin
from common.errors import StorefrontError
from common.ids import is_guid
from csp.authorizations import tenant_authorization_approve_ownership, tenant_authorization_check_now
from csp.models import (
    AuthorizationTransition,
    CloudServicesSettings,
    IndirectReseller,
    PartnerCenterCall,
    TenantAuthorization,
    TenantHolding,
)

logger = logging.getLogger(__name__)


def configured(value: str) -> str:
    return "configured" if value else "not set"


class CloudServicesSettingsForm(forms.ModelForm):
    class Meta:
        model = CloudServicesSettings
        fields = [
            "distributor_name",
            "environment",
            "distributor_tenant_id",
            "distributor_mpn_id",
            "polling_interval_minutes",
            "authorization_expiry_days",
            "network_refresh_minutes",
        ]

    def clean_distributor_tenant_id(self) -> str:
        value = self.cleaned_data["distributor_tenant_id"].strip().lower()
        if not is_guid(value):
            raise forms.ValidationError(
                "Enter the tenant id as a GUID, for example d1570b00-0000-4000-8000-000000000001."
            )
        return value

    def clean_distributor_mpn_id(self) -> str:
        value = self.cleaned_data["distributor_mpn_id"].strip()
        if not value.isdigit():
            raise forms.ValidationError("The MPN ID has digits only, for example 5123456.")
        return value

    def clean_polling_interval_minutes(self) -> int:
        value = self.cleaned_data["polling_interval_minutes"]
        if value < 1:
            raise forms.ValidationError("Check at least every minute or more: enter 1 or more.")
        return value

    def clean_authorization_expiry_days(self) -> int:
        value = self.cleaned_data["authorization_expiry_days"]
        if value < 1:
            raise forms.ValidationError("Pending authorizations must live at least one day.")
        return value


@admin.register(CloudServicesSettings)
class CloudServicesSettingsAdmin(SingletonModelAdmin):
    form = CloudServicesSettingsForm
    fieldsets = [
        (
            "Distributor",
            {"fields": ["distributor_name", "distributor_tenant_id", "distributor_mpn_id"]},
        ),
        (
            "Partner Center",
            {
                "fields": [
                    "environment",
                    "partner_center_mode",
                    "client_secret_status",
                    "refresh_token_status",
                ],
                "description": "Secrets come from the environment only and are never shown here.",
            },
        ),
        (
            "Background checks",
            {"fields": ["polling_interval_minutes", "authorization_expiry_days", "network_refresh_minutes"]},
        ),
    ]
    readonly_fields = ["partner_center_mode", "client_secret_status", "refresh_token_status"]

    @admin.display(description="Partner Center mode")
    def partner_center_mode(self, obj) -> str:
        mode = settings.PARTNER_CENTER_MODE
        return "sandbox (the bundled stand-in for Microsoft)" if mode == "sandbox" else mode

    @admin.display(description="Client secret (PARTNER_CENTER_CLIENT_SECRET)")
    def client_secret_status(self, obj) -> str:
        return configured(settings.PARTNER_CENTER_CLIENT_SECRET)

    @admin.display(description="Refresh token (PARTNER_CENTER_REFRESH_TOKEN)")
    def refresh_token_status(self, obj) -> str:
        return configured(settings.PARTNER_CENTER_REFRESH_TOKEN)


class AuthorizationTransitionInline(admin.TabularInline):
    model = AuthorizationTransition
    fields = ["created_at", "from_status", "to_status", "actor", "user", "microsoft_answer"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "status change"
    verbose_name_plural = "Status history"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(TenantAuthorization)
class TenantAuthorizationAdmin(ReadOnlyModelAdmin):
    list_display = [
        "initial_domain",
        "status",
        "kind",
        "organization",
        "end_customer",
        "customer_tenant_id",
        "created_at",
        "expires_at",
        "last_checked_at",
    ]
    list_filter = ["status", "kind", "organization__kind", "created_at", "expires_at"]
    search_fields = [
        "domain_prefix",
        "default_domain",
        "customer_tenant_id",
        "reseller_mpn_id",
        "organization__company_name",
        "end_customer__company_name",
        "requested_by__email",
    ]
    list_select_related = ["organization", "end_customer"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["status", "kind", "organization", "end_customer", "requested_by"]}),
        (
            "Tenant",
            {
                "fields": [
                    "domain_prefix",
                    "default_domain",
                    "expected_tenant_id",
                    "customer_tenant_id",
                    "tenant_was_customer",
                    "ownership_proof",
                ]
            },
        ),
        ("Reseller", {"fields": ["reseller_mpn_id", "reseller_tenant_id"]}),
        (
            "Checks",
            {
                "fields": [
                    "created_at",
                    "expires_at",
                    "verified_at",
                    "last_checked_at",
                    "next_check_at",
                    "check_attempts",
                    "last_message",
                ]
            },
        ),
    ]
    inlines = [AuthorizationTransitionInline]
    actions = ["check_now", "approve_as_owner"]

    @admin.display(description="Initial domain", ordering="domain_prefix")
    def initial_domain(self, obj: TenantAuthorization) -> str:
        return obj.initial_domain

    def has_check_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Check now", permissions=["check"])
    def check_now(self, request: HttpRequest, queryset) -> None:
        """Ask Partner Center now whether the customers accepted the selected pending authorizations."""
        pending = list(queryset.filter(status=TenantAuthorization.Status.PENDING))
        skipped = queryset.count() - len(pending)
        checked = 0
        for authorization in pending:
            try:
                result = tenant_authorization_check_now(
                    authorization_id=authorization.id, actor="admin", user_id=request.user.id
                )
            except StorefrontError as exc:
                logger.warning("Admin check of tenant authorization %s failed: %s", authorization.id, exc)
                self.message_user(
                    request, f"Check of {authorization.initial_domain} failed: {exc.message}", messages.ERROR
                )
                continue
            checked += 1
            authorization.refresh_from_db(fields=["status"])
            if authorization.status != TenantAuthorization.Status.VERIFIED and getattr(result, "message", ""):
                self.message_user(request, f"Still pending, {authorization.initial_domain}: {result.message}")
        if checked:
            verified = TenantAuthorization.objects.filter(
                id__in=[a.id for a in pending], status=TenantAuthorization.Status.VERIFIED
            ).count()
            self.message_user(
                request,
                f"Checked {checked} pending authorization(s) with Partner Center: {verified} verified.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} authorization(s) that are no longer pending.", messages.WARNING
            )

    @admin.action(description="Approve as the organisation's tenant (with a reason)", permissions=["check"])
    def approve_as_owner(self, request: HttpRequest, queryset):
        """A distributor admin's decision that the tenant is the organisation's, kept with its reason."""
        pending = list(
            queryset.filter(status=TenantAuthorization.Status.PENDING).select_related("organization")
        )
        if len(pending) != 1 or queryset.count() != 1:
            self.message_user(
                request, "Select exactly one pending authorization to approve.", messages.WARNING
            )
            return None
        authorization = pending[0]
        form = OwnerDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                result = tenant_authorization_approve_ownership(
                    authorization_id=authorization.pk,
                    user_id=request.user.pk,
                    reason=form.cleaned_data["reason"],
                )
            except StorefrontError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            level = messages.SUCCESS if result.verified else messages.WARNING
            outcome = "verified" if result.verified else f"recorded; still pending: {result.message}"
            self.message_user(request, f"Decision for {authorization.initial_domain} {outcome}", level)
            return None
        holders = TenantHolding.objects.filter(tenant_id=(authorization.expected_tenant_id or "").lower())
        context = {
            **self.admin_site.each_context(request),
            "title": "Approve as the organisation's tenant",
            "authorization": authorization,
            "holders": holders.select_related("organization"),
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/csp/approve_owner.html", context)


class OwnerDecisionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why this tenant is the organisation's (for example how you confirmed it). Kept in the history.",
    )


class TenantHoldingForm(forms.ModelForm):
    class Meta:
        model = TenantHolding
        fields = ["tenant_id", "organization", "reason"]

    def clean_tenant_id(self) -> str:
        value = (self.cleaned_data.get("tenant_id") or "").strip().lower()
        if not is_guid(value):
            raise forms.ValidationError(
                "Enter the tenant id, a GUID such as 33333333-3333-4333-8333-000000000001."
            )
        return value

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the decision.")
        return reason


@admin.register(TenantHolding)
class TenantHoldingAdmin(admin.ModelAdmin):
    """Tenants and the organisations that hold them; adding one here is a staff decision, deleting revokes it."""

    form = TenantHoldingForm
    list_display = ["tenant_id", "organization", "source", "authorization", "decided_by", "created_at"]
    list_filter = ["source", "organization__kind", "created_at"]
    search_fields = ["tenant_id", "organization__company_name", "reason"]
    list_select_related = ["organization", "decided_by", "authorization"]
    ordering = ["tenant_id", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["source", "decided_by", "created_at"]
        return ["tenant_id", "organization", "source", "authorization", "reason", "decided_by", "created_at"]

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["tenant_id", "organization", "reason"]
        return ["tenant_id", "organization", "source", "authorization", "reason", "decided_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: TenantHolding, form, change: bool) -> None:
        if not change:
            obj.source = TenantHolding.Source.STAFF_DECISION
            obj.decided_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(IndirectReseller)
class IndirectResellerAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "mpn_id", "tenant_id", "state", "agreement_signed", "in_network", "refreshed_at"]
    list_filter = ["state", "agreement_signed", "location"]
    search_fields = ["name", "mpn_id", "tenant_id"]

    @admin.display(description="In network", boolean=True)
    def in_network(self, obj: IndirectReseller) -> bool:
        return obj.in_network


@admin.register(PartnerCenterCall)
class PartnerCenterCallAdmin(ReadOnlyModelAdmin):
    list_display = [
        "created_at",
        "operation",
        "method",
        "path",
        "status",
        "duration_ms",
        "error_code",
        "request_id",
    ]
    list_filter = ["operation", "method", "status", "error_code"]
    search_fields = ["request_id", "correlation_id", "path", "operation", "error_code"]
    date_hierarchy = "created_at"
