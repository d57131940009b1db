"""Partner Center webhooks: receive, verify, record, and re-check (a webhook is a hint, the re-check is the proof)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from common.ids import GUID
from csp import gdap, polling
from csp.connection import partner_center
from csp.models import AuthorizationTransition, GdapRequest, WebhookDelivery
from csp.partner_center.exceptions import PartnerCenterError
from csp.partner_center.webhooks import parse_webhook_event

logger = logging.getLogger(__name__)

RELATIONSHIP_EVENTS = (
    "reseller-relationship-accepted-by-customer",
    "indirect-reseller-relationship-accepted-by-customer",
)
GDAP_APPROVED_EVENT = "granular-admin-relationship-approved"
TEST_EVENT = "test-created"
SUBSCRIBED_EVENTS = (*RELATIONSHIP_EVENTS, GDAP_APPROVED_EVENT)
KEPT_HEADERS = (
    "Content-Type",
    "x-ms-certificate-url",
    "x-ms-signature-algorithm",
    "MS-CorrelationId",
    "MS-RequestId",
    "User-Agent",
)
MAX_BODY_KEPT = 20_000
REJECTED_BODY_KEPT = 2_000  # enough to see what a forger tried; a flood of them stays small


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL character: a forged body may carry one."""
    return text.replace("\x00", "\ufffd")


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    wanted = {name.lower(): name for name in KEPT_HEADERS}
    kept = {
        wanted[key.lower()]: _storable(str(value)[:500])
        for key, value in headers.items()
        if key.lower() in wanted
    }
    kept["Authorization"] = "present" if any(k.lower() == "authorization" for k in headers) else "absent"
    return kept


@dataclass(frozen=True)
class WebhookReceipt:
    accepted: bool
    delivery: WebhookDelivery

    @property
    def to_process(self) -> bool:
        """A signed, readable delivery waits for the worker's re-check (`webhook_process`)."""
        return self.delivery.status == WebhookDelivery.Status.RECEIVED


def webhook_receive(*, body: bytes, headers: Mapping[str, str], remote_addr: str = "") -> WebhookReceipt:
    """Records a delivery; only a correctly signed, readable one is left for the worker to process (`to_process`)."""
    rejection = partner_center().webhook_rejection(body, headers)
    signature_valid = rejection is None
    text = _storable(body[:MAX_BODY_KEPT].decode("utf-8", errors="replace"))
    delivery = WebhookDelivery(
        signature_valid=signature_valid,
        body=text,
        headers=_kept_headers(headers),
        remote_addr=remote_addr[:64],
    )
    if not signature_valid:
        delivery.status = WebhookDelivery.Status.REJECTED
        delivery.body = text[:REJECTED_BODY_KEPT]
        delivery.result = _storable(f"Not signed by Microsoft, nothing was changed: {rejection}")[:4000]
        delivery.save()
        webhook_rejected_prune(keep=settings.WEBHOOK_REJECTED_KEPT)
        logger.warning("Rejected a Partner Center webhook from %s: %s", remote_addr, rejection)
        return WebhookReceipt(False, delivery)
    try:
        event = parse_webhook_event(body)
    except PartnerCenterError as error:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.result = f"Unreadable delivery: {error}"
        delivery.save()
        return WebhookReceipt(True, delivery)
    delivery.event_name = event.event_name[:100]
    delivery.resource_uri = (event.resource_uri or "")[:1000]
    delivery.resource_name = (event.resource_name or "")[:200]
    delivery.save()
    return WebhookReceipt(True, delivery)


def webhook_rejected_prune(*, keep: int) -> int:
    """Deletes the oldest rejected deliveries beyond the newest `keep`, so forged ones cannot fill the database."""
    rejected = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.REJECTED)
    boundary = list(rejected.order_by("-id").values_list("id", flat=True)[keep : keep + 1])
    if not boundary:
        return 0
    deleted, _ = rejected.filter(id__lte=boundary[0]).delete()
    return deleted


def _resource_id(delivery: WebhookDelivery) -> str:
    """The id the event is about: the last GUID-like segment of the resource URI, else the resource name."""
    for value in (delivery.resource_uri.rstrip("/").rsplit("/", 1)[-1], delivery.resource_name):
        if value and GUID.search(value):
            return value.strip().lower()
    return ""


def webhook_process(*, delivery_id: int) -> WebhookDelivery:
    """Re-checks what a trusted delivery names with Partner Center; the re-check decides, never the webhook."""
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if not delivery.signature_valid or delivery.status != WebhookDelivery.Status.RECEIVED:
        return delivery
    resource = _resource_id(delivery)
    status = WebhookDelivery.Status.PROCESSED
    try:
        if delivery.event_name in RELATIONSHIP_EVENTS:
            verified = 0
            if resource:
                verified = polling.authorizations_recheck_tenant(
                    tenant_id=resource, actor=AuthorizationTransition.Actor.WEBHOOK
                )
            if verified:
                result = f"Tenant {resource}: {verified} authorization(s) verified."
            else:
                report = polling.authorizations_poll_pass(due_only=False)
                result = f"Tenant {resource or 'unknown'} not pending here; full re-check: {report}."
        elif delivery.event_name == GDAP_APPROVED_EVENT:
            requests = list(GdapRequest.objects.filter(relationship_id__iexact=resource)) if resource else []
            for gdap_request in requests:
                gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk, scheduled=False)
            if requests:
                result = f"GDAP relationship {resource} refreshed."
            else:
                status, result = WebhookDelivery.Status.IGNORED, f"No GDAP request for {resource or 'it'}."
        elif delivery.event_name == TEST_EVENT:
            result = f"Microsoft's test event arrived and its signature is valid ({delivery.resource_name})."
        else:
            status, result = WebhookDelivery.Status.IGNORED, "Event not used by the storefront."
    except Exception as error:
        logger.exception("Webhook delivery %s could not be processed", delivery.pk)
        status, result = WebhookDelivery.Status.FAILED, f"Re-check failed: {error}"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, result=result[:4000], processed_at=timezone.now()
    )
    delivery.refresh_from_db()
    return delivery


def webhook_test_send() -> str:
    """Asks Microsoft to deliver its `test-created` event to our receiver, so an admin sees webhooks work."""
    return partner_center().send_test_webhook_event()


def webhook_register(*, url: str) -> tuple[str, tuple[str, ...]]:
    """Subscribes the storefront's receiver to the events it uses (an existing registration is replaced)."""
    registration = partner_center().register_webhook(url, SUBSCRIBED_EVENTS)
    return registration.url, registration.events
