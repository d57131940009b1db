"""The buyer's dashboard: open checkouts, tenant authorizations (with check now and resend) and recent orders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.selectors import orders_for
from common.errors import StorefrontError
from csp import authorizations
from csp.selectors import tenant_authorization_get, tenant_authorizations_for
from storefront.accounts.outbound import authorization_link_email
from storefront.api.throttling import lookup_budget_spend
from storefront.checkout.models import CheckoutDraft
from storefront.checkout.services import lookup_wait_message


@login_required
def home(request: HttpRequest) -> HttpResponse:
    organization_id = request.user.organization_id
    authorizations = list(
        tenant_authorizations_for(organization_id=organization_id).select_related("organization")[:200]
    )
    context = {
        "drafts": CheckoutDraft.objects.filter(
            user=request.user, status=CheckoutDraft.Status.OPEN
        ).select_related("end_customer"),
        "pending": [a for a in authorizations if a.status == "pending"],
        "closed": [a for a in authorizations if a.status != "pending"],
        "orders": orders_for(organization_id=organization_id)[:20],
        "now": timezone.now(),
    }
    return render(request, "dashboard/home.html", context)


@login_required
@require_POST
def authorization_check_now(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Asks Microsoft now rather than waiting for the worker's next pass."""
    authorization = tenant_authorization_get(
        organization_id=request.user.organization_id, authorization_id=authorization_id
    )
    # Microsoft is asked about the last default domain Verify was given: a lookup of the buyer's budget.
    if retry_after := lookup_budget_spend(request=request):
        messages.error(request, lookup_wait_message(retry_after=retry_after, action="Check now"))
        return redirect("dashboard:home")
    try:
        result = authorizations.tenant_authorization_check_now(
            authorization_id=authorization.pk, actor="user", user_id=request.user.pk
        )
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        (messages.success if result.verified else messages.warning)(
            request, f"{authorization.default_domain}: {result.message}"
        )
    return redirect("dashboard:home")


@login_required
@require_POST
def authorization_resend(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Sends the authorization link again to the customer's administrator."""
    authorization = tenant_authorization_get(
        organization_id=request.user.organization_id, authorization_id=authorization_id
    )
    email = request.POST.get("admin_email", "").strip()
    try:
        validate_email(email)
    except ValidationError:
        messages.error(request, "Enter the administrator's email address, for example admin@contoso.com.")
        return redirect("dashboard:home")
    try:
        authorization_link_email(user=request.user, authorization_id=authorization.pk, to=email)
    except StorefrontError as error:
        messages.error(request, error.message)
        return redirect("dashboard:home")
    messages.success(
        request, f"We emailed the authorization link for {authorization.default_domain} to {email}."
    )
    return redirect("dashboard:home")
