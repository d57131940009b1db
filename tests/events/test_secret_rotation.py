"""Rotating an endpoint's signing secret: the new one is shown once; for a day both sign, so nothing is refused."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from standardwebhooks import Webhook, WebhookVerificationError

from storefront.events import services
from tests.api.conftest import api_client_for, assert_error

pytestmark = pytest.mark.django_db


def _sent_signatures(receiver) -> list[str]:
    return receiver.requests[-1].headers["webhook-signature"].split(" ")


def _verifies(secret: str, request) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def test_for_a_day_both_secrets_sign_then_only_the_new_one(endpoint_with_secret, receiver, run_on_commit):
    endpoint, old = endpoint_with_secret
    new = services.event_endpoint_secret_rotate(endpoint=endpoint)
    assert new.startswith("whsec_") and new != old

    with run_on_commit():
        services.event_endpoint_test(endpoint=endpoint)
    sent = receiver.requests[-1]
    assert len(_sent_signatures(receiver)) == 2
    assert _verifies(new, sent) and _verifies(old, sent)  # a receiver on either secret accepts it

    with freeze_time(timezone.now() + services.SECRET_OVERLAP + timedelta(minutes=1)):
        with run_on_commit():
            services.event_endpoint_test(endpoint=endpoint)
        sent = receiver.requests[-1]
        assert len(_sent_signatures(receiver)) == 1
        assert _verifies(new, sent) and not _verifies(old, sent)


def test_a_second_rotation_retires_the_oldest_secret_at_once(endpoint_with_secret, receiver, run_on_commit):
    endpoint, first = endpoint_with_secret
    second = services.event_endpoint_secret_rotate(endpoint=endpoint)
    third = services.event_endpoint_secret_rotate(endpoint=endpoint)

    with run_on_commit():
        services.event_endpoint_test(endpoint=endpoint)

    sent = receiver.requests[-1]
    assert _verifies(third, sent) and _verifies(second, sent) and not _verifies(first, sent)


def test_the_api_answers_the_new_secret_once_and_only_to_the_owner(endpoint_with_secret, owner, outsider):
    endpoint, old = endpoint_with_secret
    url = f"/api/v1/event-endpoints/{endpoint.pk}/rotate-secret/"

    assert_error(api_client_for(outsider).post(url), 404, "not_found")
    answer = api_client_for(owner).post(url)

    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == endpoint.pk and body["secret"].startswith("whsec_") and body["secret"] != old
    listed = api_client_for(owner).get(f"/api/v1/event-endpoints/{endpoint.pk}/").json()
    assert "secret" not in listed
    endpoint.refresh_from_db()
    assert services.endpoint_secret(endpoint) == body["secret"]


def test_the_page_asks_first_then_shows_the_new_secret_once(client, endpoint_with_secret, owner):
    endpoint, old = endpoint_with_secret
    client.force_login(owner)
    url = reverse("events:rotate-secret", args=[endpoint.pk])

    asked = client.get(url)
    assert "two signatures" in asked.content.decode()
    endpoint.refresh_from_db()
    assert services.endpoint_secret(endpoint) == old  # nothing changes before the confirmed POST

    shown = client.post(url, {"confirm": "yes"}).content.decode()
    endpoint.refresh_from_db()
    new = services.endpoint_secret(endpoint)
    assert new != old and new in shown
    assert "also signed with the previous secret" in shown
    assert new not in client.get(reverse("events:detail", args=[endpoint.pk])).content.decode()
