"""The App+User connection to Partner Center: connected from admin, watched, and ordering paused without it.

Live mode needs an Admin agent's consent (authorization code with PKCE) for most of the checkout's calls
(`partner-center-api.md` 0.5 and 8). Without it nothing is half-done: buyers are told ordering is paused
before anything is asked of Microsoft, admin shows a red banner, and staff are emailed when a working
connection breaks or is about to age out (refresh tokens expire after 90 days without use).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from common.errors import StorefrontError
from csp import signals
from csp.connection import partner_center
from csp.errors import PartnerCenterUnavailable
from csp.models import PartnerCenterConnection
from csp.partner_center.auth import ConnectedAccount
from csp.partner_center.exceptions import PartnerCenterError, PartnerCenterNotConnected
from csp.token_cache import token_cache_fernet

logger = logging.getLogger(__name__)

ORDERING_PAUSED_MESSAGE = "Ordering is paused while we reconnect to Microsoft. Please try again later."
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
EXPIRY_WARNING = timedelta(days=14)
KEY_MISSING = (
    "Set PARTNER_CENTER_TOKEN_ENCRYPTION_KEY before connecting (generate one with "
    '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
)


class OrderingPaused(PartnerCenterUnavailable):
    """Live mode has no working App+User connection, so nothing that needs Microsoft may start."""


class ConnectionNotPossible(StorefrontError):
    code = "partner_center_not_connected"


# -- status ------------------------------------------------------------------------------------------------


def partner_center_connected() -> bool:
    """Whether App+User calls can be made, from the database alone (no call to Microsoft)."""
    if settings.PARTNER_CENTER_MODE == "sandbox" or settings.PARTNER_CENTER_REFRESH_TOKEN:
        return True
    connection = PartnerCenterConnection.objects.filter(pk=1).first()
    return bool(connection and connection.connected_at and not connection.broken_at)


def ordering_require() -> None:
    """Raises OrderingPaused when live mode has no working connection; called before any Microsoft call."""
    if not partner_center_connected():
        raise OrderingPaused(ORDERING_PAUSED_MESSAGE)


# -- connecting from admin ---------------------------------------------------------------------------------


def connection_start(*, redirect_uri: str) -> dict[str, Any]:
    """The authorization-code flow to keep in the admin's session; its `auth_uri` is where to send them."""
    if token_cache_fernet() is None:
        raise ConnectionNotPossible(KEY_MISSING)
    try:
        return partner_center().token_provider.connect_start(redirect_uri=redirect_uri)
    except PartnerCenterError as error:
        raise ConnectionNotPossible(f"Microsoft sign-in could not start: {error.message}") from error


def connection_finish(
    *, flow: dict[str, Any], response: dict[str, str], user_id: int
) -> PartnerCenterConnection:
    """Redeems the code Microsoft sent back and records who connected, when, and whether MFA was used."""
    try:
        account: ConnectedAccount = partner_center().token_provider.connect_finish(
            flow=flow, response=response
        )
    except PartnerCenterError as error:
        detail = getattr(error, "error_description", None) or error.message
        raise ConnectionNotPossible(f"Microsoft did not connect: {detail}") from error
    now = timezone.now()
    connection = PartnerCenterConnection.load()
    connection.account = account.username[:254]
    connection.account_name = account.name[:200]
    connection.mfa = account.mfa
    connection.connected_by_id = user_id
    connection.connected_at = now
    connection.last_refreshed_at = now
    connection.broken_at = None
    connection.broken_reason = ""
    connection.expiry_warned_at = None
    connection.save()
    return connection


def connection_mark_broken(*, reason: str) -> bool:
    """Marks a working connection broken (ordering pauses) and emails staff once; False if already known."""
    changed = PartnerCenterConnection.objects.filter(
        pk=1, connected_at__isnull=False, broken_at__isnull=True
    ).update(broken_at=timezone.now(), broken_reason=reason[:2000])
    if changed:
        logger.error("Partner Center connection broken: %s", reason)
        _email_staff(
            "Microsoft Partner Center connection broken: ordering is paused",
            f"The storefront can no longer sign in to Partner Center as the Admin agent:\n\n{reason}\n\n"
            "Buyers see 'Ordering is paused while we reconnect to Microsoft'. An Admin agent must connect again "
            f"at {settings.STOREFRONT_BASE_URL}/admin/csp/partnercenterconnection/.\n",
        )
    return bool(changed)


@receiver(signals.partner_center_sign_in_refused, dispatch_uid="connection-marked-broken")
def _sign_in_refused(sender, *, reason: str, **kwargs) -> None:
    connection_mark_broken(reason=reason)


def connection_watch() -> str:
    """Beat: uses the connection (which rolls the refresh token), marks it broken when Microsoft refuses it,
    and warns staff once when it is close to aging out."""
    if settings.PARTNER_CENTER_MODE != "live":
        return "sandbox mode: nothing to watch"
    connection = PartnerCenterConnection.objects.filter(pk=1, connected_at__isnull=False).first()
    if connection is None or connection.broken_at:
        return "not connected"
    try:
        partner_center().token_provider.token("partner_center")
    except PartnerCenterNotConnected as error:
        connection_mark_broken(reason=error.message)
        return "broken"
    except PartnerCenterError as error:
        logger.warning("Partner Center connection check could not reach Microsoft: %s", error)
        return "unreachable"
    connection.refresh_from_db()
    last = connection.last_refreshed_at or connection.connected_at
    ages_out = last + REFRESH_TOKEN_LIFETIME
    if ages_out - timezone.now() <= EXPIRY_WARNING:
        warned = PartnerCenterConnection.objects.filter(pk=1, expiry_warned_at__isnull=True).update(
            expiry_warned_at=timezone.now()
        )
        if warned:
            _email_staff(
                "Microsoft Partner Center connection ages out soon",
                f"Microsoft has not renewed the Partner Center sign-in since {last:%Y-%m-%d}; it stops working "
                f"on {ages_out:%Y-%m-%d} (90 days without use). Connect again at "
                f"{settings.STOREFRONT_BASE_URL}/admin/csp/partnercenterconnection/.\n",
            )
        return "ages out soon"
    return "ok"


def _email_staff(subject: str, body: str) -> None:
    def send() -> None:
        recipients = list(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if not recipients:
            return
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:
            logger.exception("Could not email staff about the Partner Center connection")

    transaction.on_commit(send)
