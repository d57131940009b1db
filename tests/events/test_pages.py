"""The dashboard's event notification pages: register (secret shown once), test event, log, redeliver, pause."""

import pytest

from storefront.events.models import EventDelivery, EventEndpoint
from storefront.events.services import event_endpoint_test

pytestmark = pytest.mark.django_db

LIST = "/dashboard/events/"


def test_register_shows_the_secret_on_that_page_only(client, owner, receiver, loopback_allowed):
    client.force_login(owner)
    response = client.post(
        LIST, {"url": f"{receiver.url}/psa", "description": "PSA", "event_types": ["order.completed"]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "shown only this once" in page
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in page
    endpoint = EventEndpoint.objects.get()
    assert secret not in client.get(f"{LIST}{endpoint.pk}/").content.decode()
    assert secret not in client.get(LIST).content.decode()


def test_a_refused_url_keeps_what_was_typed_with_the_reason(client, owner, loopback_refused):
    client.force_login(owner)
    response = client.post(
        LIST,
        {"url": "https://169.254.169.254/latest", "description": "cloud", "event_types": ["gdap.active"]},
    )
    page = response.content.decode()
    assert "public addresses only" in page
    assert 'value="https://169.254.169.254/latest"' in page and 'value="cloud"' in page
    assert not EventEndpoint.objects.exists()


def test_send_test_event_and_redeliver_from_the_page(client, owner, endpoint, receiver, run_on_commit):
    client.force_login(owner)
    with run_on_commit():
        response = client.post(f"{LIST}{endpoint.pk}/test/", follow=True)
    assert "Test event queued" in response.content.decode()
    page = client.get(f"{LIST}{endpoint.pk}/").content.decode()
    assert "endpoint.test" in page and "HTTP 204" in page and 'data-status="succeeded"' in page
    delivery = EventDelivery.objects.get()
    with run_on_commit():
        client.post(f"{LIST}deliveries/{delivery.pk}/redeliver/")
    assert len(receiver.requests) == 2


def test_pause_edit_and_delete(client, owner, endpoint):
    client.force_login(owner)
    client.post(f"{LIST}{endpoint.pk}/toggle/")
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    client.post(f"{LIST}{endpoint.pk}/", {"url": endpoint.url, "event_types": ["order.failed"]})
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["order.failed"]
    confirm = client.post(f"{LIST}{endpoint.pk}/delete/")  # without confirming: the question
    assert confirm.status_code == 200 and "and its delivery log?" in confirm.content.decode()
    assert EventEndpoint.objects.exists()
    client.post(f"{LIST}{endpoint.pk}/delete/", {"confirm": "yes"})
    assert not EventEndpoint.objects.exists()


def test_another_organisations_pages_and_actions_are_404(client, outsider, endpoint, run_on_commit):
    with run_on_commit():
        delivery = event_endpoint_test(endpoint=endpoint)
    client.force_login(outsider)
    assert endpoint.url not in client.get(LIST).content.decode()
    for url in [f"{LIST}{endpoint.pk}/"]:
        assert client.get(url).status_code == 404
    for url in [
        f"{LIST}{endpoint.pk}/",
        f"{LIST}{endpoint.pk}/test/",
        f"{LIST}{endpoint.pk}/toggle/",
        f"{LIST}{endpoint.pk}/delete/",
        f"{LIST}deliveries/{delivery.pk}/redeliver/",
    ]:
        assert (
            client.post(url, {"url": "https://adatum.example/", "event_types": ["order.failed"]}).status_code
            == 404
        )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.event_types != ["order.failed"]
    assert EventDelivery.objects.count() == 1


def test_staff_without_organisation_and_anonymous_are_kept_out(client, staff_user):
    assert client.get(LIST).status_code == 302
    client.force_login(staff_user)
    assert client.get(LIST).status_code == 403


def test_dashboard_links_to_event_notifications(client, owner):
    client.force_login(owner)
    assert f'href="{LIST}"' in client.get("/dashboard/").content.decode()
