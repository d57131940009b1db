"""Thin views of the checkout wizard; the rules live in storefront.checkout.services and in csp."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import billing_address_complete
from common.errors import StorefrontError
from csp import authorizations, connect, polling
from csp.models import TenantAuthorization
from storefront.accounts.outbound import authorization_link_email
from storefront.api.throttling import lookup_budget_spend
from storefront.checkout import services, steps
from storefront.checkout.forms import AgreementForm
from storefront.checkout.models import CheckoutDraft
from storefront.customers.forms import EndCustomerForm, OrganizationProfileForm
from storefront.customers.models import EndCustomer
from storefront.customers.services import billing_profile_form_confirm, end_customer_save


def _buyer_required(view):
    """Only users of a reseller or a direct-customer organisation can check out."""

    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.organization_id is None:
            raise PermissionDenied("Distributor staff order through Django admin, not the storefront.")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _microsoft_required(view):
    """Live mode without a Partner Center connection: say ordering is paused before anything is asked of
    Microsoft or changed (the draft and what the buyer typed stay as they were)."""

    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            connect.ordering_require()
        except connect.OrderingPaused as paused:
            if request.headers.get("HX-Request"):
                return HttpResponse(f'<p class="error" role="alert">{paused.message}</p>')
            return render(request, "checkout/paused.html", {"message": paused.message}, status=503)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _draft(request: HttpRequest) -> CheckoutDraft:
    return services.checkout_draft_get(user=request.user)


def _guard(request: HttpRequest, draft: CheckoutDraft, step_key: str) -> HttpResponse | None:
    unmet = steps.unmet_precondition(draft, step_key)
    if unmet is None:
        return None
    step, reason = unmet
    messages.warning(request, reason)
    return redirect(step.url_name)


def _context(draft: CheckoutDraft, step_key: str, **extra) -> dict:
    cart = services.draft_cart(draft)
    lines = cart.lines
    return {
        "draft": draft,
        "steps": steps.progress(step_key),
        "lines": lines,
        "withdrawn": cart.withdrawn,
        "withdrawn_message": cart.withdrawn_message if cart.withdrawn else "",
        "total": services.cart_total(lines),
        "monthly_total": services.cart_monthly_total(lines),
        "currency": lines[0].product.currency if lines else "",
        **extra,
    }


@_buyer_required
@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest) -> HttpResponse:
    """The cart: quantities can be changed; 0 or Remove takes a line out (a withdrawn product only by Remove)."""
    draft = _draft(request)
    errors = {}
    if request.method == "POST":
        quantities = {
            k.removeprefix("quantity-"): v for k, v in request.POST.items() if k.startswith("quantity-")
        }
        if removed := request.POST.get("remove"):
            quantities[removed] = 0
        try:
            services.cart_set_quantities(draft=draft, quantities=quantities)
            if request.POST.get("action") == "checkout":
                return redirect("checkout:customer")
            messages.success(request, "Your cart was updated.")
            return redirect("checkout:cart")
        except StorefrontError as error:
            errors["quantity"] = error.message
    return render(request, "checkout/cart.html", _context(draft, "cart", errors=errors))


@_buyer_required
@require_POST
def cart_add(request: HttpRequest, product_id: int) -> HttpResponse:
    draft = _draft(request)
    try:
        services.cart_add(draft=draft, product_id=product_id, quantity=request.POST.get("quantity", 1))
        messages.success(request, "Added to your cart.")
    except StorefrontError as error:
        messages.error(request, error.message)
    return redirect("checkout:cart")


@_buyer_required
@require_http_methods(["GET", "POST"])
def customer(request: HttpRequest) -> HttpResponse:
    """Resellers pick or add an end-customer; direct customers confirm their own details."""
    draft = _draft(request)
    if response := _guard(request, draft, "customer"):
        return response
    organization = draft.organization
    address_required = services.billing_address_required(organization=organization)
    if organization.is_reseller:
        end_customers = EndCustomer.objects.filter(reseller=organization)
        choice = request.POST.get(
            "end_customer", str(draft.end_customer_id or ("new" if not end_customers else ""))
        )
        chosen = _end_customer_chosen(request, draft, choice)
        form = EndCustomerForm(
            data=request.POST if request.method == "POST" else None,
            instance=chosen,
            address_required=address_required,
            prefix="new",
        )
        if request.method == "POST" and (choice == "new" or chosen is not None):
            if chosen is not None and not services.billing_address_missing(
                organization=organization, end_customer=chosen
            ):
                return _customer_chosen(draft, chosen)
            if not _address_check_waits(request, form) and (
                end_customer := end_customer_save(form=form, reseller=organization)
            ):
                return _customer_chosen(draft, end_customer)
            if chosen is not None:
                messages.error(
                    request, f"Complete {chosen.company_name}'s billing address: Microsoft needs it."
                )
        context = _context(
            draft,
            "customer",
            form=form,
            end_customers=end_customers,
            choice=choice,
            address_required=address_required,
        )
        return render(request, "checkout/customer_reseller.html", context)
    form = OrganizationProfileForm(
        data=request.POST if request.method == "POST" else None,
        instance=organization,
        address_required=address_required,
    )
    if (
        request.method == "POST"
        and not _address_check_waits(request, form)
        and billing_profile_form_confirm(form)
    ):
        form.save()
        draft.customer_confirmed = True
        draft.save(update_fields=["customer_confirmed", "updated_at"])
        return redirect("checkout:service_details")
    return render(request, "checkout/customer_direct.html", _context(draft, "customer", form=form))


def _address_check_waits(request: HttpRequest, form) -> bool:
    """A complete billing address is validated at Microsoft (`csp.addresses`): a lookup of the buyer's budget.
    When it is spent, the form says when to continue and keeps what was typed."""
    if not form.is_valid() or not billing_address_complete(form.cleaned_data):
        return False
    retry_after = lookup_budget_spend(request=request)
    if retry_after is None:
        return False
    message = services.lookup_wait_message(
        retry_after=retry_after, action="Continue", checked="addresses and domain prefixes"
    )
    form.add_error("address_line1", message)
    return True


def _end_customer_chosen(request: HttpRequest, draft: CheckoutDraft, choice: str) -> EndCustomer | None:
    """The existing end-customer picked on the form (the draft's own needs no query), or None for a new one."""
    if choice in ("", "new"):
        return None
    if draft.end_customer_id is not None and str(draft.end_customer_id) == choice:
        return draft.end_customer
    try:
        return services.end_customer_for(organization=draft.organization, end_customer_id=choice)
    except StorefrontError as error:
        if request.method == "POST":
            messages.error(request, error.message)
        return None


def _customer_chosen(draft: CheckoutDraft, end_customer: EndCustomer) -> HttpResponse:
    if draft.end_customer_id != end_customer.pk:
        draft.authorization = None
        draft.service_details_done = False
    draft.end_customer = end_customer
    draft.save()
    return redirect("checkout:service_details")


def _service_details_input(request: HttpRequest, draft: CheckoutDraft) -> dict:
    data = request.POST
    return {
        "domain_prefix": data.get("domain_prefix", ""),
        "existing_tenant": data.get("existing_tenant") in ("on", "true", "1"),
        "mpn_id": data.get("mpn_id", draft.mpn_id) if draft.organization.is_reseller else None,
    }


def _lookup_wait(request: HttpRequest, draft: CheckoutDraft, typed: dict) -> int | None:
    """Seconds to wait when what was typed needs a lookup and the user's budget (the API's too) is spent."""
    if not services.service_details_lookup_needed(
        draft=draft, domain_prefix=typed["domain_prefix"], mpn_id=typed["mpn_id"]
    ):
        return None
    return lookup_budget_spend(request=request)


def _recheck_afresh(request: HttpRequest) -> bool:
    """Checkout and Place order re-check values already checked: afresh while the budget allows (each spends it),
    else with Microsoft's answer of the last seconds, so resending them never asks Microsoft without bound."""
    return lookup_budget_spend(request=request) is None


@_buyer_required
@_microsoft_required
@require_http_methods(["GET", "POST"])
def service_details(request: HttpRequest) -> HttpResponse:
    """Service Details: domain prefix, existing tenant, MPN ID, authorization and the Checkout button."""
    draft = _draft(request)
    if response := _guard(request, draft, "service_details"):
        return response
    if request.method == "POST":
        typed = _service_details_input(request, draft)
        needed = services.service_details_lookup_needed(
            draft=draft, domain_prefix=typed["domain_prefix"], mpn_id=typed["mpn_id"]
        )
        if needed and (retry_after := lookup_budget_spend(request=request)):
            result = services.service_details_waiting(draft=draft, **typed, retry_after=retry_after)
            status = 429
        else:
            afresh = needed or _recheck_afresh(request)
            result = services.service_details_complete(draft=draft, **typed, afresh=afresh)
            if draft.service_details_done:
                return redirect("checkout:review")
            messages.error(request, "Checkout is not possible yet: see the messages next to the fields.")
            status = 400
        submitted = True
    else:
        result = services.service_details_open(draft=draft)
        status = 200
        submitted = False
    return render(
        request,
        "checkout/service_details.html",
        _context(draft, "service_details", result=result, submitted=submitted),
        status=status,
    )


@_buyer_required
@_microsoft_required
@require_POST
def service_details_check(request: HttpRequest) -> HttpResponse:
    """htmx: one field changed (prefix typed, MPN ID left, box ticked); answers with every region that changes."""
    # The end-customer is not shown here, and the authorization is read only when the box is ticked.
    draft = services.checkout_draft_get(user=request.user, related=())
    field = request.POST.get("check", "domain")
    typed = _service_details_input(request, draft)
    if field == "domain" and draft.organization.is_reseller:
        typed["mpn_id"] = draft.mpn_id
    if retry_after := _lookup_wait(request, draft, typed):
        # Nothing is recorded or asked: the fields keep what the buyer typed, and the region checks again later.
        context = {"field": field if field in ("box", "mpn") else "domain", "retry_after": retry_after}
        return render(request, "checkout/_regions_throttled.html", context)
    result = services.service_details_check(draft=draft, **typed, field=field)
    # The regions show the checks only: no cart lines, totals or steps to compute.
    return render(request, "checkout/_regions_check.html", {"draft": draft, "result": result})


def _authorization_for(request: HttpRequest, authorization_id: int) -> TenantAuthorization:
    return get_object_or_404(
        TenantAuthorization.objects.select_related("organization"),
        pk=authorization_id,
        organization_id=request.user.organization_id,
    )


def _regions_after_authorization(
    request: HttpRequest, draft: CheckoutDraft, template: str, **extra
) -> HttpResponse:
    result = services.service_details_shown(draft=draft)
    context = _context(draft, "service_details", result=result, **extra)
    return render(request, f"checkout/{template}", context)


@_buyer_required
@_microsoft_required
@require_POST
def authorization_verify(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """The Verify Authorization dialog: resolves the default domain and asks Microsoft."""
    authorization = _authorization_for(request, authorization_id)
    default_domain = request.POST.get("default_domain", "")
    # Verify resolves whatever domain is typed at Microsoft (does a tenant use it?): a lookup like the others.
    if retry_after := lookup_budget_spend(request=request):
        message = services.lookup_wait_message(retry_after=retry_after, action="Verify Authorization")
        verify = {"ok": False, "message": message, "default_domain": default_domain}
    else:
        verify = _verify(request, authorization, default_domain)
    if not request.htmx:
        (messages.success if verify["ok"] else messages.error)(request, verify["message"])
        return redirect("checkout:service_details")
    draft = _draft(request)
    return _regions_after_authorization(request, draft, "_regions_verify.html", verify=verify)


def _verify(request: HttpRequest, authorization: TenantAuthorization, default_domain: str) -> dict:
    try:
        outcome = authorizations.tenant_authorization_verify(
            authorization_id=authorization.pk, default_domain=default_domain, user_id=request.user.pk
        )
        return {"ok": outcome.verified, "message": outcome.message, "default_domain": default_domain}
    except StorefrontError as error:
        return {"ok": False, "message": error.message, "default_domain": default_domain}


@_buyer_required
@require_GET
def authorization_status(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """htmx polling: the page updates itself when the worker or a webhook verifies the authorization; while it is
    open, the worker checks the authorization at least every polling interval, whatever its back-off."""
    authorization = _authorization_for(request, authorization_id)
    polling.authorization_watched(authorization)
    if request.GET.get("status") == authorization.status:
        return HttpResponse(status=204)
    return _regions_after_authorization(request, _draft(request), "_regions_status.html")


SIGN_IN_SESSION_KEY = "tenant-admin-sign-in"


@_buyer_required
@require_POST
def authorization_sign_in(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Sends the tenant's administrator to Microsoft to sign in; the flow waits in the buyer's session."""
    authorization = _authorization_for(request, authorization_id)
    redirect_uri = request.build_absolute_uri(reverse("checkout:authorization_signed_in"))
    try:
        flow = authorizations.tenant_sign_in_start(
            authorization_id=authorization.pk, redirect_uri=redirect_uri
        )
    except StorefrontError as error:
        messages.error(request, error.message)
        return redirect("checkout:service_details")
    request.session[SIGN_IN_SESSION_KEY] = {"authorization_id": authorization.pk, "flow": flow}
    return redirect(flow["auth_uri"])


@_buyer_required
@require_GET
def authorization_signed_in(request: HttpRequest) -> HttpResponse:
    """Microsoft's answer to the sign-in: the signed-in tenant must be the authorization's (once per flow)."""
    pending = request.session.pop(SIGN_IN_SESSION_KEY, None)
    if not pending:
        messages.error(
            request, "That sign-in has already been used or has expired. Select Sign in with Microsoft again."
        )
        return redirect("checkout:service_details")
    authorization = _authorization_for(request, pending["authorization_id"])
    try:
        outcome = authorizations.tenant_sign_in_finish(
            authorization_id=authorization.pk,
            flow=pending["flow"],
            response=request.GET.dict(),
            user_id=request.user.pk,
        )
    except StorefrontError as error:
        messages.error(request, error.message)
        return redirect("checkout:service_details")
    (messages.success if outcome.verified else messages.warning)(request, outcome.message)
    return redirect("checkout:service_details")


@_buyer_required
@require_POST
def authorization_email(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Emails the authorization link and instructions to the customer's administrator."""
    authorization = _authorization_for(request, authorization_id)
    email = request.POST.get("admin_email", "").strip()
    try:
        validate_email(email)
    except ValidationError:
        sent = {
            "ok": False,
            "message": "Enter the administrator's email address, for example admin@contoso.com.",
        }
    else:
        try:
            authorization_link_email(user=request.user, authorization_id=authorization.pk, to=email)
        except StorefrontError as error:
            sent = {"ok": False, "message": error.message}
        else:
            sent = {"ok": True, "message": f"We emailed the authorization link to {email}."}
    return render(request, "checkout/_regions_email.html", {"sent": sent})


def _resent_place_order_lands_on_its_order(view):
    """A resent Place order (a double submit, or the answer lost) shows the order it placed, before anything else
    is asked: even while ordering is paused, which would tell the buyer to try again (and order twice)."""

    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method == "POST" and not _draft(request).lines:
            placed = services.checkout_recently_placed(user=request.user)
            if placed is not None:
                messages.info(request, f"Order {placed.number} was already placed; here it is.")
                return redirect("orders:detail", order_id=placed.pk)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_buyer_required
@_resent_place_order_lands_on_its_order
@_microsoft_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """Review: lines, totals, tenant, partner of record, Microsoft Customer Agreement and Place order."""
    draft = _draft(request)
    if response := _guard(request, draft, "review"):
        return response
    contact = draft.end_customer if draft.organization.is_reseller else draft.organization
    form = AgreementForm(
        data=request.POST if request.method == "POST" else None,
        initial={
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            afresh = draft.existing_tenant or _recheck_afresh(request)
            order, _ = services.checkout_place_order(draft=draft, agreement=form.acceptance(), afresh=afresh)
        except StorefrontError as error:
            messages.error(request, error.message)
            if error.field in form.fields:
                form.add_error(error.field, error.message)
        else:
            return redirect("orders:detail", order_id=order.pk)
    return render(request, "checkout/review.html", _context(draft, "review", form=form, contact=contact))


@_buyer_required
def checkout_start(request: HttpRequest) -> HttpResponse:
    """Resumes the open checkout at its first unfinished step."""
    draft = _draft(request)
    for key in ("review", "service_details", "customer"):
        if steps.unmet_precondition(draft, key) is None:
            return redirect(reverse(f"checkout:{key}"))
    return redirect("checkout:cart")
