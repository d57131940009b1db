"""Listens to csp's signals and records the organisation's event; the data is the API's view of the object.

A listener here never raises into csp: what failed is logged, and the event's rows were written in a savepoint.
"""

import functools
import logging

from django.dispatch import receiver

from csp import signals
from storefront.events.models import EventType
from storefront.events.services import event_record

logger = logging.getLogger(__name__)


def _never_raises(listener):
    @functools.wraps(listener)
    def wrapper(*args, **kwargs):
        try:
            listener(*args, **kwargs)
        except Exception:
            logger.exception("Event notification not recorded (%s)", listener.__name__)

    return wrapper


def _authorization(authorization, event_type: str) -> None:
    from storefront.api.serializers import AuthorizationSerializer

    authorization.refresh_from_db()
    event_record(
        organization_id=authorization.organization_id,
        event_type=event_type,
        key=f"{event_type}:{authorization.pk}",
        data=AuthorizationSerializer(authorization).data,
    )


@receiver(signals.authorization_verified, dispatch_uid="events.authorization_verified")
@_never_raises
def authorization_verified(sender, *, authorization, **kwargs) -> None:
    _authorization(authorization, EventType.AUTHORIZATION_VERIFIED)


@receiver(signals.authorization_expired, dispatch_uid="events.authorization_expired")
@_never_raises
def authorization_expired(sender, *, authorization, **kwargs) -> None:
    _authorization(authorization, EventType.AUTHORIZATION_EXPIRED)


@receiver(signals.order_finished, dispatch_uid="events.order_finished")
@_never_raises
def order_finished(sender, *, order_id: int, **kwargs) -> None:
    from billing.models import Order
    from storefront.api.serializers import OrderSerializer

    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    if order.status == Order.Status.COMPLETED:
        event_type = EventType.ORDER_COMPLETED
    elif order.status == Order.Status.FAILED:
        event_type = EventType.ORDER_FAILED
    else:
        return
    event_record(
        organization_id=order.organization_id,
        event_type=event_type,
        key=f"order.finished:{order_id}",
        data=OrderSerializer(order).data,
    )


@receiver(signals.gdap_active, dispatch_uid="events.gdap_active")
@_never_raises
def gdap_active(sender, *, gdap_request_id: int, **kwargs) -> None:
    from csp.models import GdapRequest
    from storefront.api.serializers import GdapRequestSerializer

    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    event_record(
        organization_id=gdap_request.organization_id,
        event_type=EventType.GDAP_ACTIVE,
        key=f"{EventType.GDAP_ACTIVE}:{gdap_request_id}",
        data=GdapRequestSerializer(gdap_request).data,
    )
