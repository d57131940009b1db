"""Emails to buyers: the authorization link for the customer's administrator, and what csp announces (an
authorization verified, an order finished), told to the buyer who asked, with links to the storefront's pages."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing.models import Order
from common.text import quoted
from csp import signals
from csp.models import CloudServicesSettings, TenantAuthorization

logger = logging.getLogger(__name__)


def _page(name: str, *args) -> str:
    return settings.STOREFRONT_BASE_URL.rstrip("/") + reverse(name, args=args)


def _member_email(user, organization_id: int) -> str:
    """The buyer's address while they are still an active user of the organisation; otherwise nobody (a user moved
    to another organisation, or gone, is never told about this one's tenants and orders)."""
    if user is None or not user.is_active or user.organization_id != organization_id:
        return ""
    return user.email


def _send(subject: str, body: str, to: str) -> None:
    if not to:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        logger.exception("Could not send '%s' to the buyer", subject)


@receiver(signals.authorization_verified, dispatch_uid="email-buyer-authorization-verified")
def authorization_verified(sender, *, authorization: TenantAuthorization, **kwargs) -> None:
    """Tells the buyer who asked that the customer accepted and checkout can go on."""

    def send() -> None:
        auth = TenantAuthorization.objects.select_related("requested_by").get(pk=authorization.pk)
        _send(
            f"Authorization verified for {auth.default_domain}",
            f"The Microsoft tenant {auth.default_domain} has accepted the authorization.\n"
            f"You can finish the checkout at {_page('checkout:service_details')}.\n",
            _member_email(auth.requested_by, auth.organization_id),
        )

    transaction.on_commit(send)


@receiver(signals.order_finished, dispatch_uid="email-buyer-order-finished")
def order_finished(sender, *, order_id: int, **kwargs) -> None:
    """Tells the buyer whether Microsoft completed the order, or why it failed."""
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
    _send(
        subject,
        body + f"\n\n{_page('orders:detail', order.pk)}\n",
        _member_email(order.placed_by, order.organization_id),
    )


def authorization_link_send(*, authorization_id: int, to: str) -> None:
    """Sends the authorization link with instructions to the customer's administrator."""
    authorization = TenantAuthorization.objects.select_related("organization").get(pk=authorization_id)
    organization = authorization.organization
    body = render_to_string(
        "checkout/email_authorization_link.txt",
        {
            "authorization": authorization,
            "organization_name": quoted(organization.company_name),
            "distributor_name": CloudServicesSettings.load().distributor_name,
        },
    )
    send_mail(_authorization_link_subject(organization.company_name), body, None, [to])


def _authorization_link_subject(company_name: str) -> str:
    return f"Microsoft partner authorization requested by {quoted(company_name)}"


def authorization_link_subject(*, authorization_id: int) -> str:
    """The subject of the authorization link's email, as it is sent (for the record of sends)."""
    authorization = TenantAuthorization.objects.select_related("organization").get(pk=authorization_id)
    return _authorization_link_subject(authorization.organization.company_name)
