"""API v1 for event notifications: endpoints, their delivery log, a test event and manual redelivery."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from storefront.api.serializers import StrictBooleanField, StrictCharField, formatted, status_field
from storefront.api.views import APIView, OrganizationMixin, errors, id_parameter
from storefront.events import selectors, services
from storefront.events.models import DeliveryAttempt, EventDelivery, EventEndpoint, EventType

AUTHENTICATED = (401, 403)
# A web address with a host; whether it is https, resolves, and to a public address is checked on registration.
ENDPOINT_URL_PATTERN = r"^https?://[A-Za-z0-9\[][^\s/?#]*(/[^\s]*)?$"


@extend_schema_field({"type": "string", "enum": list(EventType.values), "x-spec-enum-id": "event-type"})
class EventTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=EventType.choices, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class EventEndpointInputSerializer(serializers.Serializer):
    url = formatted(
        ENDPOINT_URL_PATTERN,
        "Enter a valid URL, such as https://psa.example.com/hooks/storefront.",
        500,
        help_text="An https:// URL of your system with a public address (private and loopback ones are refused).",
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=EventTypeField(),
        min_length=1,
        max_length=len(EventType.values),
        help_text="The events to send.",
    )
    is_active = StrictBooleanField(required=False, help_text="False pauses deliveries to this endpoint.")


class EventEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=EventTypeField())

    class Meta:
        model = EventEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class EventEndpointCreatedSerializer(EventEndpointSerializer):
    secret = serializers.CharField(
        help_text="The `whsec_` signing secret: shown this once; keep it to verify the `webhook-signature`."
    )

    class Meta(EventEndpointSerializer.Meta):
        fields = [*EventEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The endpoint's HTTP status, if it answered."
    )
    error = serializers.CharField(help_text="Why the attempt failed; empty when it succeeded.")

    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "status_code", "duration_ms", "error"]
        read_only_fields = fields


class EventDeliverySerializer(serializers.ModelSerializer):
    status = status_field(EventDelivery.Status, "event-delivery")
    event_type = serializers.CharField(
        source="event.type", help_text="One of the event types, or `endpoint.test`."
    )
    webhook_id = serializers.CharField(source="event.message_id", help_text="The `webhook-id` header sent.")
    payload = serializers.JSONField(source="event.payload", help_text="The JSON body sent.")
    attempts = DeliveryAttemptSerializer(many=True)

    class Meta:
        model = EventDelivery
        fields = [
            "id",
            "endpoint",
            "event_type",
            "webhook_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "payload",
            "attempts",
        ]
        read_only_fields = fields


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


ENDPOINT_ID = id_parameter("endpoint_id", "An event endpoint id.")
DELIVERY_ID = id_parameter("delivery_id", "An event delivery id.")
TAG = ["event-notifications"]


class EndpointMixin(OrganizationMixin):
    def endpoint_own(self, endpoint_id: int) -> EventEndpoint:
        """One of the caller's organisation's endpoints; another organisation's id is not found (404)."""
        return selectors.event_endpoint_get(organization_id=self.organization.pk, endpoint_id=endpoint_id)


class EventEndpointListCreateView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="event_endpoints_list",
        tags=TAG,
        summary="Your organisation's event endpoints",
        responses={200: EventEndpointSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        endpoints = selectors.event_endpoints_for(organization_id=self.organization.pk)
        return Response(EventEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="event_endpoints_create",
        tags=TAG,
        summary="Register an endpoint for event notifications",
        description=(
            "Answers the signing `secret` once. Deliveries are JSON POSTs signed the Standard Webhooks way "
            "(`webhook-id`, `webhook-timestamp`, `webhook-signature`)."
        ),
        request=EventEndpointInputSerializer,
        responses={
            201: EventEndpointCreatedSerializer,
            **errors(
                *AUTHENTICATED,
                s400="`invalid`: a URL that is not https:// to a public address, or an unknown event type.",
                s409=f"`endpoint_limit_reached`: at most {services.MAX_ENDPOINTS_PER_ORGANIZATION} endpoints.",
            ),
        },
    )
    def post(self, request):
        data = _valid(EventEndpointInputSerializer, request.data)
        endpoint, secret = services.event_endpoint_create(
            organization_id=self.organization.pk,
            user_id=request.user.pk,
            url=data["url"],
            description=data.get("description", ""),
            event_types=data["event_types"],
        )
        if data.get("is_active") is False:
            services.event_endpoint_update(endpoint=endpoint, is_active=False)
        endpoint.secret = secret
        return Response(
            EventEndpointCreatedSerializer(endpoint).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("events_api:endpoint", args=[endpoint.pk])},
        )


class EventEndpointDetailView(EndpointMixin, APIView):
    @extend_schema(
        operation_id="event_endpoints_retrieve",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="One of your event endpoints",
        responses={200: EventEndpointSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        return Response(EventEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="event_endpoints_partial_update",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="Change an endpoint's URL, description, events or pause it",
        request=EventEndpointInputSerializer(partial=True),
        responses={
            200: EventEndpointSerializer,
            **errors(*AUTHENTICATED, 404, s400="`invalid`: as on registration."),
        },
    )
    def patch(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        data = _valid(EventEndpointInputSerializer, request.data, partial=True)
        endpoint = services.event_endpoint_update(
            endpoint=endpoint,
            url=data.get("url"),
            description=data.get("description"),
            event_types=data.get("event_types"),
            is_active=data.get("is_active"),
        )
        return Response(EventEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="event_endpoints_destroy",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="Delete an endpoint and its delivery log",
        responses={204: None, **errors(*AUTHENTICATED, 404)},
    )
    def delete(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        services.event_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventEndpointTestView(EndpointMixin, APIView):
    @extend_schema(
        operation_id="event_endpoints_test",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="Send a test event (`endpoint.test`) to this endpoint",
        description="Queued at once and sent by the worker; follow it in the endpoint's deliveries.",
        request=None,
        responses={202: EventDeliverySerializer, **errors(*AUTHENTICATED, 404)},
    )
    def post(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        delivery = services.event_endpoint_test(endpoint=endpoint)
        return Response(EventDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class EventEndpointRotateSecretView(EndpointMixin, APIView):
    @extend_schema(
        operation_id="event_endpoints_rotate_secret",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="Rotate the signing secret: the new `secret` is answered this once",
        description=(
            "For 24 hours every delivery carries two signatures in `webhook-signature`, space-separated: one with "
            "the new secret and one with the old, so your system can switch without refusing a delivery."
        ),
        request=None,
        responses={200: EventEndpointCreatedSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def post(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        endpoint.secret = services.event_endpoint_secret_rotate(endpoint=endpoint)
        return Response(EventEndpointCreatedSerializer(endpoint).data)


class EventEndpointDeliveriesView(EndpointMixin, APIView):
    @extend_schema(
        operation_id="event_endpoints_deliveries_list",
        parameters=[ENDPOINT_ID],
        tags=TAG,
        summary="The endpoint's delivery log: the latest 50 deliveries with every attempt",
        responses={200: EventDeliverySerializer(many=True), **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, endpoint_id: int):
        endpoint = self.endpoint_own(endpoint_id)
        deliveries = selectors.event_deliveries_for(endpoint=endpoint)
        return Response(EventDeliverySerializer(deliveries, many=True).data)


class EventDeliveryRedeliverView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="event_deliveries_redeliver",
        parameters=[DELIVERY_ID],
        tags=TAG,
        summary="Send a delivery again now (same `webhook-id`)",
        request=None,
        responses={202: EventDeliverySerializer, **errors(*AUTHENTICATED, 404)},
    )
    def post(self, request, delivery_id: int):
        delivery = selectors.event_delivery_get(organization_id=self.organization.pk, delivery_id=delivery_id)
        delivery = services.delivery_redeliver(delivery=delivery)
        return Response(EventDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
