"""Read-only probes of every permission the storefront uses at Microsoft, each answering ok or what to fix."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from csp.connection import partner_center
from csp.partner_center.auth import token_claims
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import (
    PartnerCenterAuthError,
    PartnerCenterError,
    PartnerCenterNotConnected,
    TransientPartnerCenterError,
)

logger = logging.getLogger(__name__)

RECONNECT = (
    "Connect again as an Admin agent with MFA: admin → Microsoft Partner Center connection → Connect to "
    "Microsoft Partner Center."
)
ROLE = (
    "Give the connected account the Admin agent role in Partner Center (Account settings → User management)."
)


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def webhook_receiver_url() -> str:
    return settings.STOREFRONT_BASE_URL.rstrip("/") + reverse("csp:partner-center-webhook")


def _why(error: PartnerCenterError, fix: str) -> tuple[str, str]:
    """Microsoft's answer in a line, and the fix that fits it."""
    if isinstance(error, PartnerCenterNotConnected):
        return error.message, RECONNECT
    if isinstance(error, PartnerCenterAuthError):
        return f"Microsoft sign-in refused: {error.error_description or error.error}", (
            "Check PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET (an expired "
            "secret is the usual cause) and that the app is registered in Partner Center (Account settings → App "
            "management)."
        )
    if isinstance(error, TransientPartnerCenterError):
        return error.message, "Microsoft did not answer in time; run the check again in a few minutes."
    return error.message, fix


class _Unmet(Exception):
    """A read that worked but shows something to set up."""


def _probe(name: str, run: Callable[[], str], fix: str) -> Probe:
    try:
        return Probe(name, True, run())
    except _Unmet as unmet:
        return Probe(name, False, str(unmet), fix)
    except PartnerCenterError as error:
        detail, how = _why(error, fix)
        return Probe(name, False, detail, how)
    except Exception as error:  # a probe must report, never crash the page
        logger.exception("health probe %s failed", name)
        return Probe(name, False, f"{type(error).__name__}: {error}", "See the server log.")


def _app_plus_user(client: PartnerCenterClient) -> str:
    token = client.token_provider.token("partner_center")
    amr = token_claims(token).get("amr")
    if not isinstance(amr, list):
        mfa = "MFA not reported by the token"
    elif "mfa" in amr:
        mfa = "MFA: yes"
    else:
        raise PartnerCenterNotConnected(
            "The App+User token carries no MFA claim; Microsoft enforces MFA on App+User calls.",
            error="no_mfa",
        )
    return f"App+User token issued ({mfa})."


def health_check() -> list[Probe]:
    """Runs every probe in order; nothing here changes anything at Microsoft."""
    client = partner_center()
    resellers: list = []

    def reseller_list() -> str:
        resellers.extend(client.indirect_resellers())
        return f"{len(resellers)} indirect reseller(s) in the network."

    def agreement() -> str:
        mpn_id = next((r.mpn_id for r in resellers if r.mpn_id), None)
        if mpn_id is None:
            return "No reseller to ask about yet (the call is made once a reseller is in the network)."
        status = client.agreement_status(mpn_id=mpn_id)
        return f"MPN ID {mpn_id}: " + ("agreement signed." if status.signed else status.message)

    def webhook() -> str:
        registration = client.webhook_registration()
        wanted = webhook_receiver_url()
        if registration is None:
            raise _Unmet("No webhook is registered.")
        if registration.url != wanted:
            raise _Unmet(f"The webhook goes to {registration.url}, not {wanted}.")
        return f"Registered {registration.url} for {len(registration.events)} event(s)."

    probes = [
        _probe("App+User token", lambda: _app_plus_user(client), RECONNECT),
        _probe(
            "App-only token",
            lambda: (client.token_provider.app_only_token("partner_center"), "App-only token issued.")[1],
            "Check the app registration's client secret.",
        ),
        _probe("Reseller list", reseller_list, ROLE),
        _probe(
            "Relationship link",
            lambda: f"Invitation link: {client.relationship_request_link().url[:80]}…",
            ROLE,
        ),
        _probe(
            "Customer list",
            lambda: f"{len(client.customers_page(size=1).items)} customer(s) on the first page of one.",
            ROLE,
        ),
        _probe("Agreement status", agreement, ROLE),
        _probe(
            "Graph GDAP list",
            lambda: f"{len(client.gdap_relationships_sample(top=1))} GDAP relationship(s) read.",
            "Grant the app the Graph permission DelegatedAdminRelationship.ReadWrite.All (delegated and "
            "application) with admin consent, and add it to the Partner Center's AdminAgents group.",
        ),
        _probe(
            "Webhook registration",
            webhook,
            "Register the webhook: admin → Microsoft Partner Center connection → Register the webhook.",
        ),
    ]
    return probes
