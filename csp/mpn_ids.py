"""MPN IDs and the distributor's network: the indirect resellers that accepted the distributor under the
Microsoft Partner Agreement, cached locally (refreshed by the worker) so the on-blur check needs no call."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from common.errors import InvalidInput
from common.singleton import ShortLivedRows
from csp.calls import microsoft_call
from csp.connection import partner_center
from csp.errors import MpnNotInNetwork, PartnerCenterUnavailable
from csp.models import CloudServicesSettings, IndirectReseller
from csp.partner_center.exceptions import PartnerCenterError

logger = logging.getLogger(__name__)

MPN_OUTSIDE_NETWORK_MESSAGE = (
    "There seems to be a problem with the Microsoft Partner Network ID (MPNID) you have provided. Please make "
    "sure that you have typed it correctly. If the problem insists, you have to authorize {distributor} as your "
    "Microsoft Cloud Solution Provider (CSP) by accepting the Microsoft Partner Agreement on the Microsoft "
    "Partner Center."
)


def normalize_mpn_id(raw: str | None) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("Enter your MPN ID (Microsoft Partner ID), digits only.", field="mpn_id")
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise InvalidInput("The MPN ID must contain digits only (for example 1234567).", field="mpn_id")
    return value


@dataclass(frozen=True)
class MpnCheck:
    mpn_id: str
    valid: bool
    reseller_name: str
    reseller_tenant_id: str
    message: str
    owned: bool = True


def mpn_outside_network_message() -> str:
    return MPN_OUTSIDE_NETWORK_MESSAGE.format(distributor=CloudServicesSettings.load().distributor_name)


def network_refresh(*, agreement_for_mpn_id: str | None = None) -> int:
    """Reads the distributor's indirect resellers into the local network cache.

    The worker's full refresh asks every active reseller's agreement status; a cache miss on the hot path passes
    `agreement_for_mpn_id` so only that one reseller's agreement is asked.
    """
    client = partner_center()
    resellers = microsoft_call("read the reseller network", client.indirect_resellers)
    now = timezone.now()
    known = {r.tenant_id: r.agreement_signed for r in IndirectReseller.objects.all()}
    for reseller in resellers:
        signed = known.get(reseller.tenant_id)
        wanted = agreement_for_mpn_id is None or reseller.mpn_id == agreement_for_mpn_id
        if wanted and reseller.state.lower() == "active":
            try:
                # The MPN ID form reports the CSP-region codes (2201, 2203) that the tenant id form does not.
                if reseller.mpn_id:
                    status = client.agreement_status(mpn_id=reseller.mpn_id)
                else:
                    status = client.agreement_status(tenant_id=reseller.tenant_id)
                signed = status.signed
                if not signed:
                    logger.info("Reseller %s: %s", reseller.mpn_id, status.message)
            except PartnerCenterError as error:
                logger.warning("Agreement status of %s unknown: %s", reseller.mpn_id, error)
        IndirectReseller.objects.update_or_create(
            tenant_id=reseller.tenant_id,
            defaults={
                "name": reseller.name,
                "mpn_id": reseller.mpn_id,
                "state": reseller.state,
                "location": reseller.location or "",
                "agreement_signed": signed,
                "refreshed_at": now,
            },
        )
    IndirectReseller.objects.exclude(tenant_id__in=[r.tenant_id for r in resellers]).delete()
    return len(resellers)


MPN_MISS_CACHE_SECONDS = 300


def _network_entry_live(mpn_id: str) -> IndirectReseller | None:
    """A cache miss: re-reads the network and that one reseller's agreement; an unknown MPN ID (or one whose
    agreement Microsoft could not tell) is remembered for a few minutes so typing mistakes and re-renders do not
    make Microsoft enumerate the network again and again."""
    miss_key = f"csp:mpn-miss:{settings.PARTNER_CENTER_MODE}:{mpn_id}"
    if cache.get(miss_key):
        return IndirectReseller.objects.filter(mpn_id=mpn_id).first()
    network_refresh(agreement_for_mpn_id=mpn_id)
    entry = IndirectReseller.objects.filter(mpn_id=mpn_id).first()
    if entry is None or entry.agreement_signed is None:
        cache.set(miss_key, True, MPN_MISS_CACHE_SECONDS)
    return entry


_displayed_network = ShortLivedRows("reseller network by MPN ID")
post_save.connect(_displayed_network.forget, sender=IndirectReseller, dispatch_uid="displayed-network-save")
post_delete.connect(
    _displayed_network.forget, sender=IndirectReseller, dispatch_uid="displayed-network-delete"
)


def _network_entry(mpn_id: str) -> IndirectReseller | None:
    return IndirectReseller.objects.filter(mpn_id=mpn_id).first()


def mpn_id_check(*, mpn_id: str, fresh: bool = False) -> MpnCheck:
    """Is this MPN ID an active indirect reseller of the distributor that signed the Microsoft Partner Agreement?

    Without `fresh` (what a page shows as the buyer types) a network row read up to a few seconds ago in this
    process may answer; submits (`fresh`, `mpn_id_require`) always read the database.
    """
    value = normalize_mpn_id(mpn_id)
    entry = _network_entry(value) if fresh else _displayed_network.get(value, _network_entry)
    if entry is None or entry.agreement_signed is None:
        try:
            entry = _network_entry_live(value)
        except PartnerCenterUnavailable:
            if entry is None:
                raise
            logger.warning(
                "Using the cached network entry for MPN ID %s: Partner Center is unavailable", value
            )
    if entry is None or not entry.in_network:
        return MpnCheck(value, False, entry.name if entry else "", "", mpn_outside_network_message())
    return MpnCheck(
        value,
        True,
        entry.name,
        entry.tenant_id,
        f"{entry.name} (MPN ID {value}) is in {CloudServicesSettings.load().distributor_name}'s network.",
    )


def mpn_id_require(*, mpn_id: str) -> MpnCheck:
    check = mpn_id_check(mpn_id=mpn_id, fresh=True)
    if not check.valid:
        raise MpnNotInNetwork(check.message, field="mpn_id")
    return check
