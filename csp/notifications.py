"""Emails to buyers when an authorization is verified and when an order finishes."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def _send(subject: str, body: str, to: str) -> None:
    if not to:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        logger.exception("Could not send '%s' to the buyer", subject)


def authorization_verified(*, authorization_id: int) -> None:
    """Tells the buyer who asked that the customer accepted and checkout can go on."""

    def send() -> None:
        from csp.models import TenantAuthorization

        auth = TenantAuthorization.objects.select_related("requested_by").get(pk=authorization_id)
        if not auth.requested_by:
            return
        _send(
            f"Authorization verified for {auth.default_domain}",
            f"The Microsoft tenant {auth.default_domain} has accepted the authorization.\n"
            f"You can finish the checkout at {settings.STOREFRONT_BASE_URL}/checkout/service-details/.\n",
            auth.requested_by.email,
        )

    transaction.on_commit(send)


def order_finished(*, order_id: int) -> None:
    """Tells the buyer whether Microsoft completed the order, or why it failed."""
    from billing.models import Order

    order = Order.objects.select_related("placed_by").get(pk=order_id)
    if not order.placed_by or not order.is_finished:
        return
    # Whoever finishes the order first tells the buyer; a worker or a pass finishing it again does not.
    if not Order.objects.filter(pk=order_id, buyer_notified_at__isnull=True).update(
        buyer_notified_at=timezone.now()
    ):
        return
    if order.status == Order.Status.COMPLETED:
        subject = f"Order {order.number} is complete"
        body = f"Microsoft has completed order {order.number}."
    else:
        subject = f"Order {order.number} could not be completed"
        body = f"Order {order.number} could not be completed: {order.failure_reason}"
    _send(subject, body + f"\n\n{settings.STOREFRONT_BASE_URL}/orders/{order.pk}/\n", order.placed_by.email)


def authorization_link_send(*, authorization_id: int, to: str) -> None:
    """Sends the authorization link with instructions to the customer's administrator."""
    from django.template.loader import render_to_string

    from csp.models import CloudServicesSettings, TenantAuthorization

    authorization = TenantAuthorization.objects.select_related("organization").get(pk=authorization_id)
    organization = authorization.organization
    body = render_to_string(
        "checkout/email_authorization_link.txt",
        {
            "authorization": authorization,
            "organization": organization,
            "distributor_name": CloudServicesSettings.load().distributor_name,
        },
    )
    subject = f"{organization.company_name} asks you to authorize your Microsoft cloud services partner"
    send_mail(subject, body, None, [to])
