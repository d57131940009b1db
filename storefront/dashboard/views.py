"""The buyer's dashboard: open checkouts, tenant authorizations and recent orders."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from billing.selectors import orders_for
from csp.selectors import tenant_authorizations_for
from storefront.checkout.models import CheckoutDraft


@login_required
def home(request: HttpRequest) -> HttpResponse:
    organization_id = request.user.organization_id
    authorizations = list(tenant_authorizations_for(organization_id=organization_id)[:100])
    context = {
        "drafts": CheckoutDraft.objects.filter(user=request.user, status=CheckoutDraft.Status.OPEN),
        "pending": [a for a in authorizations if a.status == "pending"],
        "closed": [a for a in authorizations if a.status != "pending"],
        "orders": orders_for(organization_id=organization_id)[:20],
        "now": timezone.now(),
    }
    return render(request, "dashboard/home.html", context)
