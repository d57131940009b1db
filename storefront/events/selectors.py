"""Reads of event notifications, always within one organisation (another's ids are simply not found)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from storefront.events.models import EventDelivery, EventEndpoint


def event_endpoints_for(*, organization_id: int | None) -> QuerySet[EventEndpoint]:
    return EventEndpoint.objects.filter(organization_id=organization_id)


def event_endpoint_get(*, organization_id: int | None, endpoint_id: int) -> EventEndpoint:
    """The organisation's endpoint, or 404 (for another organisation's id too)."""
    return get_object_or_404(EventEndpoint, pk=endpoint_id, organization_id=organization_id)


def event_deliveries_for(*, endpoint: EventEndpoint, limit: int = 50) -> list[EventDelivery]:
    """The endpoint's latest deliveries with their attempts, newest first (three queries, whatever the count)."""
    return list(
        EventDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempts")
        .order_by("-created_at", "-pk")[:limit]
    )


def event_delivery_get(*, organization_id: int | None, delivery_id: int) -> EventDelivery:
    """The organisation's delivery, or 404."""
    return get_object_or_404(
        EventDelivery.objects.select_related("event", "endpoint"),
        pk=delivery_id,
        endpoint__organization_id=organization_id,
    )
