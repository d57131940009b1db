"""The sandbox demo's receiver verifies deliveries like a reseller's system would, and refuses forged ones."""

import threading

import pytest
import urllib3

from storefront.events import services
from storefront.events.models import EventDelivery
from storefront.events.receiver import make_server
from storefront.events.services import event_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_receiver():
    secrets: dict[str, list[str]] = {}
    server, received = make_server("127.0.0.1", 0, lambda url: secrets.get(url, []), log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], secrets, received
    server.shutdown()
    server.server_close()


def test_demo_receiver_accepts_signed_deliveries_and_lists_them(owner, loopback_allowed, demo_receiver):
    port, secrets, received = demo_receiver
    url = f"http://127.0.0.1:{port}/fabrikam"
    endpoint, secret = event_endpoint_create(
        organization_id=owner.organization_id, user_id=owner.pk, url=url, event_types=["order.completed"]
    )
    secrets[url] = [secret]
    services.event_endpoint_test(endpoint=endpoint)
    assert services.delivery_attempt(delivery_id=EventDelivery.objects.get().pk) == "succeeded"
    assert [(r["type"], r["valid"]) for r in received.all()] == [("endpoint.test", True)]
    page = urllib3.request("GET", f"http://127.0.0.1:{port}/").data.decode()
    assert "endpoint.test" in page and "valid" in page


def test_demo_receiver_refuses_a_forged_signature(demo_receiver):
    port, secrets, received = demo_receiver
    secrets[f"http://127.0.0.1:{port}/x"] = ["whsec_" + "A" * 43 + "="]
    response = urllib3.request(
        "POST",
        f"http://127.0.0.1:{port}/x",
        body=b'{"type":"order.completed"}',
        headers={"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
    )
    assert response.status == 401
    assert received.all()[0]["valid"] is False
