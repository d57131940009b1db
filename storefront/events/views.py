"""Pages of event notifications (under the dashboard): endpoints, their delivery log, test event and redelivery."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.errors import StorefrontError
from storefront.events import selectors, services
from storefront.events.forms import EventEndpointForm


def _organization_id(request: HttpRequest) -> int:
    if not request.user.organization_id:
        raise PermissionDenied("Event notifications are for reseller and direct-customer accounts.")
    return request.user.organization_id


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """The endpoints and the form to register one; on success the secret is shown on this response only."""
    organization_id = _organization_id(request)
    form = EventEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.event_endpoint_create(
                organization_id=organization_id,
                user_id=request.user.pk,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except StorefrontError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return render(request, "events/created.html", {"endpoint": endpoint, "secret": secret})
    endpoints = selectors.event_endpoints_for(organization_id=organization_id)
    return render(request, "events/list.html", {"form": form, "endpoints": endpoints})


@login_required
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = selectors.event_endpoint_get(
        organization_id=_organization_id(request), endpoint_id=endpoint_id
    )
    form = EventEndpointForm(
        request.POST or None,
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.event_endpoint_update(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except StorefrontError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("events:detail", endpoint.pk)
    deliveries = selectors.event_deliveries_for(endpoint=endpoint)
    return render(
        request, "events/detail.html", {"endpoint": endpoint, "form": form, "deliveries": deliveries}
    )


@login_required
@require_POST
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = selectors.event_endpoint_get(
        organization_id=_organization_id(request), endpoint_id=endpoint_id
    )
    services.event_endpoint_test(endpoint=endpoint)
    messages.success(request, "Test event queued: it appears in the delivery log below.")
    return redirect("events:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = selectors.event_endpoint_get(
        organization_id=_organization_id(request), endpoint_id=endpoint_id
    )
    services.event_endpoint_update(endpoint=endpoint, is_active=not endpoint.is_active)
    messages.success(request, "Deliveries resumed." if endpoint.is_active else "Deliveries paused.")
    return redirect("events:detail", endpoint.pk)


def _confirmed(request: HttpRequest) -> bool:
    """The confirmation page's POST (a bare POST, or a GET, shows that page first)."""
    return request.method == "POST" and request.POST.get("confirm") == "yes"


@login_required
def endpoint_secret_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Asks first; on the confirmed POST the new secret is shown on this response only."""
    endpoint = selectors.event_endpoint_get(
        organization_id=_organization_id(request), endpoint_id=endpoint_id
    )
    if not _confirmed(request):
        return render(request, "events/rotate_secret.html", {"endpoint": endpoint})
    secret = services.event_endpoint_secret_rotate(endpoint=endpoint)
    return render(request, "events/created.html", {"endpoint": endpoint, "secret": secret, "rotated": True})


@login_required
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Asks first (the delivery log goes too); deletes on the confirmed POST."""
    endpoint = selectors.event_endpoint_get(
        organization_id=_organization_id(request), endpoint_id=endpoint_id
    )
    if not _confirmed(request):
        return render(request, "events/delete.html", {"endpoint": endpoint})
    services.event_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("events:list")


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.event_delivery_get(
        organization_id=_organization_id(request), delivery_id=delivery_id
    )
    services.delivery_redeliver(delivery=delivery)
    messages.success(request, "Redelivery queued.")
    return redirect("events:detail", delivery.endpoint_id)
