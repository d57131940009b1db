"""A reseller registers an endpoint in the browser, sends a test event and sees it delivered to its system."""

import re

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.browser.test_checkout_journeys import sign_in
from tests.events.conftest import LocalReceiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def psa(settings):
    """The reseller's system: a local receiver, reachable because tests (like the sandbox) allow loopback."""
    settings.EVENT_ENDPOINTS_ALLOW_LOOPBACK = True
    local = LocalReceiver()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()


def test_reseller_registers_an_endpoint_and_sees_a_signed_delivery(
    page, shot, live_storefront, reseller_login, psa
):
    base = live_storefront.url
    sign_in(page, base, reseller_login.email)
    page.goto(f"{base}/dashboard/")
    page.get_by_role("link", name="Event notifications").click()
    expect(page.get_by_role("heading", name="Event notifications")).to_be_visible()

    page.get_by_label("URL").fill("https://169.254.169.254/latest/meta-data/")
    page.get_by_role("checkbox", name="Order completed").check()
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_text("Deliveries go to public addresses only")).to_be_visible()
    expect(page.get_by_label("URL")).to_have_value("https://169.254.169.254/latest/meta-data/")

    page.get_by_label("URL").fill(f"{psa.url}/psa")
    page.get_by_label("Description").fill("Our PSA")
    page.get_by_role("checkbox", name="Order completed").check()
    page.get_by_role("checkbox", name="Authorization verified").check()
    page.get_by_role("button", name="Register endpoint").click()
    secret_box = page.get_by_label("Signing secret")
    expect(secret_box).to_have_value(re.compile("^whsec_"))
    secret = secret_box.input_value()
    shot("events-secret-once")

    page.get_by_role("link", name="Continue to the endpoint").click()
    page.get_by_role("button", name="Send test event").click()
    delivered = page.locator("tr.delivery").first
    expect(delivered).to_have_attribute("data-status", "succeeded")
    expect(delivered).to_contain_text("endpoint.test")
    expect(delivered).to_contain_text("HTTP 204")
    shot("events-delivery-log")

    assert len(psa.requests) == 1
    sent = psa.requests[0]
    assert Webhook(secret).verify(sent.body, sent.headers)["type"] == "endpoint.test"
    assert sent.headers["webhook-id"] in delivered.inner_text()

    delivered.get_by_role("button", name="Redeliver").click()
    expect(page.locator("tr.delivery").first).to_contain_text("#2")
    assert len(psa.requests) == 2
