"""Event notifications: endpoints per organisation, each event recorded once, deliveries signed and retried.

A delivery never runs in the request or the worker task that made the event: recording it writes rows, and the
`events` queue sends them after commit, so a slow or dead endpoint never delays the storefront's own work.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from common.errors import InvalidInput, StorefrontError
from storefront.events import network
from storefront.events.models import (
    TEST_EVENT_TYPE,
    DeliveryAttempt,
    Event,
    EventDelivery,
    EventEndpoint,
    EventType,
)

logger = logging.getLogger(__name__)

# After a failed attempt, the next one waits this long: 8 attempts over about 22 hours, then the delivery fails.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
# A claimed delivery is not picked again for this long, so a worker killed mid-send is retried, not lost.
CLAIM_LEASE = timedelta(minutes=2)
MAX_ENDPOINTS_PER_ORGANIZATION = 20
SECRET_OVERLAP = timedelta(hours=24)
USER_AGENT = "CSP-Storefront-Webhooks/1.0"
Status = EventDelivery.Status


class EndpointLimitReached(StorefrontError):
    code = "endpoint_limit_reached"
    status = 409


# The signing secret: made here, shown once, kept sealed -------------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(("event-endpoint-secret:" + settings.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _unsealed(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""


def endpoint_secret(endpoint: EventEndpoint) -> str:
    """The endpoint's signing secret, unsealed (for the signer and the sandbox's demo receiver only)."""
    return _unsealed(endpoint.secret_sealed)


def endpoint_signing_secrets(endpoint: EventEndpoint) -> list[str]:
    """What deliveries are signed with now: the current secret, and the previous one while its overlap lasts."""
    secrets_now = [endpoint_secret(endpoint)]
    if endpoint.previous_secret_until and endpoint.previous_secret_until > timezone.now():
        secrets_now.append(_unsealed(endpoint.previous_secret_sealed))
    return [secret for secret in secrets_now if secret]


def event_endpoint_secret_rotate(*, endpoint: EventEndpoint) -> str:
    """A new signing secret, answered this once. For SECRET_OVERLAP every delivery carries a signature with the
    old secret too (Standard Webhooks' space-separated signatures), so the receiving system can switch to the new
    one without refusing a delivery. A second rotation within the overlap retires the oldest at once."""
    secret = _secret_new()
    now = timezone.now()
    EventEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_sealed=endpoint.secret_sealed,
        previous_secret_until=now + SECRET_OVERLAP,
        secret_sealed=_fernet().encrypt(secret.encode()).decode(),
        updated_at=now,
    )
    endpoint.refresh_from_db()
    return secret


# Endpoints ---------------------------------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > EventEndpoint._meta.get_field("url").max_length:
        raise InvalidInput("The URL is longer than 500 characters.", field="url")
    try:
        network.target_parse(url)
    except network.DestinationRefused as error:
        raise InvalidInput(str(error), field="url") from error
    return url


def _clean_event_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t not in EventType.values]
    if unknown:
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}: choose from {', '.join(EventType.values)}.",
            field="event_types",
        )
    if not event_types:
        raise InvalidInput("Choose at least one event.", field="event_types")
    return [t for t in EventType.values if t in event_types]


def event_endpoint_create(
    *, organization_id: int, user_id: int | None, url: str, description: str = "", event_types: list[str]
) -> tuple[EventEndpoint, str]:
    """Registers an endpoint of the organisation's systems; answers its signing secret, which is shown this once."""
    url, event_types = _clean_url(url), _clean_event_types(event_types)
    if (
        EventEndpoint.objects.filter(organization_id=organization_id).count()
        >= MAX_ENDPOINTS_PER_ORGANIZATION
    ):
        raise EndpointLimitReached(
            f"An organisation can register at most {MAX_ENDPOINTS_PER_ORGANIZATION} endpoints: delete one first."
        )
    secret = _secret_new()
    endpoint = EventEndpoint.objects.create(
        organization_id=organization_id,
        created_by_id=user_id,
        url=url,
        description=description.strip(),
        event_types=event_types,
        secret_sealed=_fernet().encrypt(secret.encode()).decode(),
    )
    return endpoint, secret


def event_endpoint_update(
    *,
    endpoint: EventEndpoint,
    url: str | None = None,
    description: str | None = None,
    event_types: list[str] | None = None,
    is_active: bool | None = None,
) -> EventEndpoint:
    """Changes what was given; the secret stays."""
    if url is not None:
        endpoint.url = _clean_url(url)
    if description is not None:
        endpoint.description = description.strip()
    if event_types is not None:
        endpoint.event_types = _clean_event_types(event_types)
    if is_active is not None:
        endpoint.is_active = is_active
    endpoint.save()
    return endpoint


def event_endpoint_delete(*, endpoint: EventEndpoint) -> None:
    """Removes the endpoint and its delivery log; deliveries still queued for it are dropped."""
    endpoint.delete()


# Events and deliveries -----------------------------------------------------------------------------------------


def _enqueue(delivery_ids: list[int]) -> None:
    from storefront.events import tasks

    def send() -> None:
        for delivery_id in delivery_ids:
            try:
                tasks.delivery_attempt.delay(delivery_id)
            except Exception:  # the broker is down: the beat's due pass sends it later
                logger.exception("Could not queue event delivery %s", delivery_id)

    if delivery_ids:
        transaction.on_commit(send)


def _payload(event_type: str, data: dict) -> dict:
    return {"type": event_type, "timestamp": timezone.now().isoformat().replace("+00:00", "Z"), "data": data}


def event_record(*, organization_id: int, event_type: str, key: str, data: dict) -> Event | None:
    """Records an event once (by key) and a delivery to each active endpoint of the organisation that wants it."""
    now = timezone.now()
    with transaction.atomic():
        event, created = Event.objects.get_or_create(
            key=key,
            defaults={
                "organization_id": organization_id,
                "type": event_type,
                "payload": _payload(event_type, data),
            },
        )
        if not created:
            return None
        endpoints = [
            endpoint
            for endpoint in EventEndpoint.objects.filter(organization_id=organization_id, is_active=True)
            if event_type in endpoint.event_types
        ]
        deliveries = EventDelivery.objects.bulk_create(
            EventDelivery(event=event, endpoint=endpoint, retries_left=len(BACKOFF), next_attempt_at=now)
            for endpoint in endpoints
        )
    _enqueue([d.pk for d in deliveries])
    return event


def event_endpoint_test(*, endpoint: EventEndpoint) -> EventDelivery:
    """ "Send test event": a ping to this one endpoint only, delivered like any event (once, no retries)."""
    data = {
        "endpoint": endpoint.pk,
        "message": "A test event from the storefront: your endpoint receives events.",
    }
    with transaction.atomic():
        event = Event.objects.create(
            organization_id=endpoint.organization_id,
            type=TEST_EVENT_TYPE,
            key=f"{TEST_EVENT_TYPE}:{uuid.uuid4().hex}",
            payload=_payload(TEST_EVENT_TYPE, data),
        )
        delivery = EventDelivery.objects.create(
            event=event, endpoint=endpoint, retries_left=0, next_attempt_at=timezone.now()
        )
    _enqueue([delivery.pk])
    return delivery


def delivery_redeliver(*, delivery: EventDelivery) -> EventDelivery:
    """Manual redelivery: one more attempt now, with the same webhook-id so the receiver can tell a repeat."""
    delivery.refresh_from_db(fields=["status"])
    now = timezone.now()
    changes: dict[str, object] = {"next_attempt_at": now}
    if delivery.status != Status.PENDING:
        changes.update(status=Status.PENDING, retries_left=0)
    EventDelivery.objects.filter(pk=delivery.pk).update(**changes)
    _enqueue([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def _claim(delivery_id: int, now: datetime) -> bool:
    """A conditional UPDATE: of two workers given the same delivery, one sends it."""
    return bool(
        EventDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=now + CLAIM_LEASE
        )
    )


def _signed_request(delivery: EventDelivery, secrets_now: list[str]) -> tuple[bytes, dict[str, str]]:
    """The Standard Webhooks headers: webhook-id, webhook-timestamp, and `v1,<HMAC-SHA256 of id.timestamp.body>`
    for each signing secret, space-separated (two during a rotation's overlap)."""
    body = json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=True)
    sent_at = datetime.fromtimestamp(int(time.time()), tz=UTC)
    message_id = delivery.event.message_id
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(message_id, sent_at, body) for secret in secrets_now
        ),
    }
    return body.encode(), headers


def delivery_attempt(*, delivery_id: int) -> str:
    """Sends one delivery once, if it is due, and records the attempt; on failure schedules the next with backoff.

    1. Claim the row (conditional UPDATE), so a delivery is sent by one worker at a time.
    2. Sign and POST, outside any transaction, to a checked public address, within a few seconds.
    3. Record the attempt (status code, duration, error) and the delivery's new state in one transaction.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "not-due"
    delivery = EventDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    status_code, excerpt, error = None, "", ""
    started = time.monotonic()
    if not endpoint.is_active:
        error = "The endpoint is disabled: not delivered."
    else:
        body, headers = _signed_request(delivery, endpoint_signing_secrets(endpoint))
        try:
            answer = network.post(endpoint.url, body=body, headers=headers)
        except (network.DestinationRefused, network.DeliveryFailed) as refusal:
            error = str(refusal)
        else:
            status_code, excerpt = answer.status_code, answer.excerpt
            if not 200 <= status_code < 300:
                error = (
                    f"Redirected ({status_code}): redirects are not followed; register the final URL."
                    if 300 <= status_code < 400
                    else f"The endpoint answered {status_code}."
                )
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(delivery, now, status_code, duration_ms, error, excerpt, retry=endpoint.is_active)


def _record_attempt(
    delivery: EventDelivery,
    started_at: datetime,
    status_code: int | None,
    duration_ms: int,
    error: str,
    excerpt: str,
    *,
    retry: bool,
) -> str:
    finished = timezone.now()
    changes: dict[str, object] = {
        "attempt_count": delivery.attempt_count + 1,
        "last_attempt_at": started_at,
        "last_status_code": status_code,
    }
    if not error:
        changes.update(status=Status.SUCCEEDED, next_attempt_at=None)
    elif retry and delivery.retries_left > 0:
        changes.update(
            retries_left=delivery.retries_left - 1,
            next_attempt_at=finished + BACKOFF[len(BACKOFF) - delivery.retries_left],
        )
    else:
        changes.update(status=Status.FAILED, next_attempt_at=None)
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count + 1,
            started_at=started_at,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error[:500],
            response_excerpt=excerpt[:500],
        )
        EventDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return str(changes.get("status", Status.PENDING))


def deliveries_due_enqueue(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat's pass: queues the deliveries whose next attempt is due (retries, and any a broker outage lost)."""
    now = now or timezone.now()
    due = list(
        EventDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(due)
    return len(due)
