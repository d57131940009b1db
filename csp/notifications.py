"""Emails to buyers when an authorization is verified and when an order finishes."""

import logging
import re
import unicodedata

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)
QUOTED_MAX_LENGTH = 80
_QUOTE_MARKS = re.compile('["“”„‟«»‹›]')


def quoted(name: str) -> str:
    """A name someone typed (an organisation's, a customer's), set apart in quotes on one line, so text such as
    "Reset your password at evil.example" reads as a name and never as the storefront's own words."""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(name or ""))
    text = _QUOTE_MARKS.sub("'", " ".join(text.split()))
    if len(text) > QUOTED_MAX_LENGTH:
        text = text[: QUOTED_MAX_LENGTH - 1].rstrip() + "…"
    return f"“{text}”"


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
            "organization_name": quoted(organization.company_name),
            "distributor_name": CloudServicesSettings.load().distributor_name,
        },
    )
    send_mail(_authorization_link_subject(organization.company_name), body, None, [to])


def _authorization_link_subject(company_name: str) -> str:
    return f"Microsoft partner authorization requested by {quoted(company_name)}"


def authorization_link_subject(*, authorization_id: int) -> str:
    """The subject of the authorization link's email, as it is sent (for the record of sends)."""
    from csp.models import TenantAuthorization

    authorization = TenantAuthorization.objects.select_related("organization").get(pk=authorization_id)
    return _authorization_link_subject(authorization.organization.company_name)
