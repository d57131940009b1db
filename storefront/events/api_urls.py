"""API v1 routes of event notifications; storefront/urls.py mounts them under /api/v1/ before the API's own."""

from django.urls import path

from storefront.api.urls import IdConverter  # noqa: F401  (registers the api_id converter)
from storefront.events import api

app_name = "events_api"
urlpatterns = [
    path("event-endpoints/", api.EventEndpointListCreateView.as_view(), name="endpoints"),
    path("event-endpoints/<api_id:endpoint_id>/", api.EventEndpointDetailView.as_view(), name="endpoint"),
    path(
        "event-endpoints/<api_id:endpoint_id>/test/",
        api.EventEndpointTestView.as_view(),
        name="endpoint-test",
    ),
    path(
        "event-endpoints/<api_id:endpoint_id>/rotate-secret/",
        api.EventEndpointRotateSecretView.as_view(),
        name="endpoint-rotate-secret",
    ),
    path(
        "event-endpoints/<api_id:endpoint_id>/deliveries/",
        api.EventEndpointDeliveriesView.as_view(),
        name="endpoint-deliveries",
    ),
    path(
        "event-deliveries/<api_id:delivery_id>/redeliver/",
        api.EventDeliveryRedeliverView.as_view(),
        name="delivery-redeliver",
    ),
]
