"""Admin for organisations (resellers and direct customers) and their users, who sign in with email."""

from django import forms
from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.http import HttpRequest

from billing.models import BillingProfile
from billing.validators import validate_company_name
from csp.models import ResellerMpnId

from .models import ApiToken, Organization, SentEmail, User


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = [
            "company_name",
            "kind",
            "mpn_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            *BillingProfile.ADDRESS_FIELDS,
        ]

    def clean_company_name(self):
        value = self.cleaned_data["company_name"].strip()
        validate_company_name(value)  # an organisation's name reaches emails and Microsoft: no web addresses
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        mpn_id = (cleaned.get("mpn_id") or "").strip()
        if kind == Organization.Kind.RESELLER:
            if not mpn_id:
                self.add_error("mpn_id", "A reseller needs its MPN ID (Microsoft Partner ID).")
            elif not mpn_id.isdigit():
                self.add_error("mpn_id", "The MPN ID has digits only, for example 1234567.")
            else:
                holder = ResellerMpnId.objects.filter(mpn_id=mpn_id).exclude(organization_id=self.instance.pk)
                other = holder.select_related("organization").first()
                if other is not None:
                    self.add_error("mpn_id", f"MPN ID {mpn_id} already belongs to {other.organization}.")
        elif kind == Organization.Kind.DIRECT and mpn_id:
            self.add_error("mpn_id", "A direct customer has no MPN ID: leave it empty.")
        cleaned["mpn_id"] = mpn_id
        return cleaned


class ResellerMpnIdForm(forms.ModelForm):
    class Meta:
        model = ResellerMpnId
        fields = ["mpn_id"]

    def clean_mpn_id(self) -> str:
        mpn_id = (self.cleaned_data.get("mpn_id") or "").strip()
        if not mpn_id.isdigit():
            raise forms.ValidationError("The MPN ID has digits only, for example 1234567.")
        return mpn_id


class ResellerMpnIdInline(admin.TabularInline):
    """The organisation's MPN IDs (partner location ids): only these may be used in its orders."""

    model = ResellerMpnId
    form = ResellerMpnIdForm
    fields = ["mpn_id", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0
    verbose_name = "MPN ID"
    verbose_name_plural = "MPN IDs (partner location IDs) this reseller may order under"


class OrganizationUserInline(admin.TabularInline):
    model = User
    fields = ["email", "first_name", "last_name", "is_active", "last_login"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Users"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["company_name", "kind", "mpn_id", "email", "country", "user_count", "created_at"]
    list_filter = ["kind", "country", "created_at"]
    search_fields = ["company_name", "mpn_id", "email", "users__email"]
    fieldsets = [
        (
            None,
            {
                "fields": ["company_name", "kind", "mpn_id"],
                "description": "The MPN ID here is the default "
                "one; list every MPN ID the reseller may order under below.",
            },
        ),
        ("Contact", {"fields": ["first_name", "last_name", "email", "phone"]}),
        (
            "Billing address",
            {"fields": ["address_line1", "address_line2", "city", "state", "postal_code", "country"]},
        ),
    ]
    inlines = [ResellerMpnIdInline, OrganizationUserInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(user_count=Count("users", distinct=True))

    @admin.display(description="Users", ordering="user_count")
    def user_count(self, obj: Organization) -> int:
        return obj.user_count


def clean_unique_email(form: forms.ModelForm) -> str:
    email = form.cleaned_data["email"].strip().lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise forms.ValidationError("A user with this email already exists.")
    return email


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "organization")

    def clean_email(self) -> str:
        return clean_unique_email(self)


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return clean_unique_email(self)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Organisation", {"fields": ["organization"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "organization", "usable_password", "password1", "password2"],
            },
        ),
    ]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "organization",
        "organization_kind",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "organization__kind", "groups"]
    search_fields = ["email", "first_name", "last_name", "organization__company_name", "organization__mpn_id"]
    list_select_related = ["organization"]
    ordering = ["email"]
    autocomplete_fields = ["organization"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected users (sign-in, sessions and API tokens stop at once)")
    def deactivate(self, request: HttpRequest, queryset) -> None:
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(request, f"Deactivated {count} user(s). Tick Active on a user to let them back in.")

    @admin.display(description="Kind", ordering="organization__kind")
    def organization_kind(self, obj: User) -> str:
        if obj.organization_id:
            return obj.organization.get_kind_display()
        return "Staff" if obj.is_staff else "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: who holds which, until when; revoke by deleting. No secret is stored, so none can be shown,
    and tokens are made by their users (account page or API), never here."""

    list_display = ["name", "user", "created", "expiry", "last_used_at"]
    list_filter = ["created", "expiry"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    fields = ["name", "user", "created", "expiry", "last_used_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        count, _ = queryset.delete()
        self.message_user(request, f"Revoked {count} token(s): they stop working at once.")


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    """Every "Email the link" send: who sent what to whom, and when (read-only)."""

    list_display = ["sent_at", "kind", "recipient", "sent_by", "organization", "subject"]
    list_filter = ["kind", "sent_at"]
    search_fields = ["recipient", "sent_by__email", "organization__company_name", "subject"]
    list_select_related = ["sent_by", "organization"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
