"""Event notifications to a reseller's (or direct customer's) own systems: endpoints, events, deliveries, attempts."""

import uuid

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    AUTHORIZATION_VERIFIED = "authorization.verified", "Authorization verified"
    AUTHORIZATION_EXPIRED = "authorization.expired", "Authorization expired"
    ORDER_COMPLETED = "order.completed", "Order completed"
    ORDER_FAILED = "order.failed", "Order failed"
    GDAP_ACTIVE = "gdap.active", "Admin access (GDAP) active"


# Sent only by "Send test event", to the one endpoint it is asked for; nobody subscribes to it.
TEST_EVENT_TYPE = "endpoint.test"


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class EventEndpoint(models.Model):
    """An HTTPS URL of the organisation's systems and the events it wants; the signing secret is kept sealed."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="event_endpoints"
    )
    url = models.CharField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret_sealed = models.TextField(editable=False)
    # After a rotation the old secret still signs (beside the new one) until `previous_secret_until`.
    previous_secret_sealed = models.TextField(blank=True, default="", editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField("active", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """Something that happened to one organisation, once (`key` names it, so a second announcement is ignored)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40)
    key = models.CharField(max_length=120, unique=True)
    message_id = models.CharField(max_length=40, unique=True, default=_message_id, editable=False)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} ({self.message_id})"


class EventDelivery(models.Model):
    """One event to one endpoint, retried by the worker with backoff until it succeeds or a day has passed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(EventEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    retries_left = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="event_delivery_once_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST to the endpoint: what it answered (or why it could not), and how long it took."""

    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-number"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
