"""The Admin access page: how a reseller requests its own GDAP in Partner Center, and the distributor's
relationships with the organisation's customer tenants (read-only)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from csp import gdap


def _member(request: HttpRequest) -> int:
    if not request.user.organization_id:
        raise PermissionDenied("Admin access is shown to reseller and direct-customer accounts.")
    return request.user.organization_id


@require_safe
@login_required
def gdap_list(request: HttpRequest) -> HttpResponse:
    """Each customer tenant with its Partner Center link (resellers), and the distributor's relationships."""
    organization_id = _member(request)
    tenants = [
        {
            "tenant_id": t.tenant_id,
            "name": t.name,
            "partner_center_link": gdap.partner_center_gdap_link(t.tenant_id),
        }
        for t in gdap.gdap_customer_tenants_for(organization_id)
    ]
    context = {
        "tenants": tenants,
        "gdap_requests": gdap.gdap_requests_for(organization_id),
        "is_reseller": request.user.is_reseller,
    }
    return render(request, "gdap/list.html", context)


@require_safe
@login_required
def gdap_detail(request: HttpRequest, gdap_request_id: int) -> HttpResponse:
    gdap_request = gdap.gdap_request_get(_member(request), gdap_request_id)
    return render(request, "gdap/detail.html", {"gdap_request": gdap_request})


@require_safe
@login_required
def gdap_status(request: HttpRequest, gdap_request_id: int) -> HttpResponse:
    """htmx polling: 204 while the status the page shows is still the current one (read from Microsoft at most
    every 10 seconds while the page is open)."""
    gdap_request = gdap.gdap_request_get(_member(request), gdap_request_id)
    gdap_request = gdap.gdap_request_refresh_if_stale(gdap_request)
    shown = f"{gdap_request.status}/{gdap_request.access_assignment_status}"
    if request.GET.get("status") == shown:
        return HttpResponse(status=204)
    return render(request, "gdap/_status.html", {"gdap_request": gdap_request})
