"""Emails a user asks the storefront to send to an address they type: limited, recorded, never an open relay."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import StorefrontError
from storefront.checkout import emails

from .models import SentEmail, User

DAY = timedelta(days=1)


class EmailRefused(StorefrontError):
    code = "email_refused"
    status = 400


class EmailLimitReached(StorefrontError):
    code = "throttled"
    status = 429


def _refused_domain(recipient: str) -> bool:
    domain = recipient.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in settings.STOREFRONT_EMAIL_REFUSED_DOMAINS)


def authorization_link_email(*, user: User, authorization_id: int, to: str) -> SentEmail:
    """Emails the authorization link to the customer's administrator, within the daily limits per user and per
    recipient, and records the send. Raises EmailRefused or EmailLimitReached with what to do instead."""
    recipient = to.strip().lower()
    if _refused_domain(recipient):
        raise EmailRefused(
            "The authorization link goes to the customer's administrator, not to an address of ours: "
            "enter the customer's email address.",
            field="admin_email",
        )
    since = timezone.now() - DAY
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one send at a time per user
        recent = SentEmail.objects.filter(kind=SentEmail.Kind.AUTHORIZATION_LINK, sent_at__gte=since)
        if recent.filter(sent_by=user).count() >= settings.STOREFRONT_EMAIL_LINKS_PER_USER_PER_DAY:
            raise EmailLimitReached(
                "You have sent the authorization link as often as we allow in a day. "
                "Copy the link and send it yourself, or try again tomorrow.",
                field="admin_email",
            )
        if (
            recent.filter(recipient=recipient).count()
            >= settings.STOREFRONT_EMAIL_LINKS_PER_RECIPIENT_PER_DAY
        ):
            raise EmailLimitReached(
                f"{recipient} has received the authorization link as often as we allow in a day. "
                "Copy the link and send it yourself, or try again tomorrow.",
                field="admin_email",
            )
        record = SentEmail.objects.create(
            kind=SentEmail.Kind.AUTHORIZATION_LINK,
            sent_by=user,
            organization_id=user.organization_id,
            recipient=recipient,
            subject=emails.authorization_link_subject(authorization_id=authorization_id)[:255],
            authorization_id=authorization_id,
        )
    emails.authorization_link_send(authorization_id=authorization_id, to=recipient)
    return record
