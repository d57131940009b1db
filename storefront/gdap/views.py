"""Reseller pages to ask for admin access (GDAP) to a customer's tenant and watch it become active."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from csp import gdap
from csp.errors import StorefrontError


class GdapRequestForm(forms.Form):
    customer_tenant_id = forms.ChoiceField(label="Customer tenant")
    role_template = forms.ModelChoiceField(
        label="Roles", queryset=gdap.gdap_role_templates(), empty_label=None
    )
    duration_days = forms.IntegerField(
        label="Duration (days)",
        min_value=gdap.MIN_DURATION_DAYS,
        max_value=gdap.MAX_DURATION_DAYS,
        initial=gdap.DEFAULT_DURATION_DAYS,
        help_text="From 1 to 730 days (two years).",
    )
    auto_extend = forms.BooleanField(
        label="Extend automatically by 180 days when it ends",
        required=False,
        help_text="Not available when the roles include Global Administrator.",
    )

    def __init__(self, *args, tenants: list[gdap.CustomerTenant], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_tenant_id"].choices = [
            (t.tenant_id, f"{t.name} ({t.tenant_id})") for t in tenants
        ]
        self.fields["role_template"].queryset = gdap.gdap_role_templates()
        default = gdap.gdap_role_templates().filter(is_default=True).first()
        if default is not None:
            self.fields["role_template"].initial = default.pk

    def clean(self):
        data = super().clean()
        template = data.get("role_template")
        if data.get("auto_extend") and template is not None and template.includes_global_administrator:
            self.add_error(
                "auto_extend", "Microsoft does not allow auto-extension with Global Administrator."
            )
        return data


def _reseller(request: HttpRequest) -> None:
    if not request.user.is_reseller:
        raise PermissionDenied("Admin access requests are for resellers.")


@login_required
def gdap_list(request: HttpRequest) -> HttpResponse:
    _reseller(request)
    requests = gdap.gdap_requests_for(request.user.organization_id)
    return render(request, "gdap/list.html", {"gdap_requests": requests})


@login_required
def gdap_new(request: HttpRequest) -> HttpResponse:
    """The request form; on success the reseller lands on the request page with the approval link."""
    _reseller(request)
    tenants = gdap.gdap_customer_tenants_for(request.user.organization_id)
    initial = {"customer_tenant_id": request.GET.get("tenant", "")}
    form = GdapRequestForm(request.POST or None, tenants=tenants, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            gdap_request = gdap.gdap_request_create(
                organization_id=request.user.organization_id,
                user_id=request.user.pk,
                customer_tenant_id=form.cleaned_data["customer_tenant_id"],
                role_template_id=form.cleaned_data["role_template"].pk,
                duration_days=form.cleaned_data["duration_days"],
                auto_extend=form.cleaned_data["auto_extend"],
            )
        except StorefrontError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, "The admin relationship is ready: send the approval link to the customer."
            )
            return redirect("gdap:detail", gdap_request.pk)
    templates = {str(t.pk): t.includes_global_administrator for t in gdap.gdap_role_templates()}
    return render(
        request, "gdap/new.html", {"form": form, "tenants": tenants, "global_admin_templates": templates}
    )


@login_required
def gdap_detail(request: HttpRequest, gdap_request_id: int) -> HttpResponse:
    _reseller(request)
    gdap_request = gdap.gdap_request_get(request.user.organization_id, gdap_request_id)
    return render(request, "gdap/detail.html", {"gdap_request": gdap_request})


@login_required
def gdap_status(request: HttpRequest, gdap_request_id: int) -> HttpResponse:
    """htmx polling: 204 while the status the page shows is still the current one (read from Microsoft at most
    every 10 seconds while the page is open)."""
    _reseller(request)
    gdap_request = gdap.gdap_request_get(request.user.organization_id, gdap_request_id)
    gdap_request = gdap.gdap_request_refresh_if_stale(gdap_request)
    if request.GET.get("status") == gdap_request.status:
        return HttpResponse(status=204)
    return render(request, "gdap/_status.html", {"gdap_request": gdap_request})
