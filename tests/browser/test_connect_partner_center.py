"""An admin connects Partner Center in Chromium: the sandbox's sign-in page, its MFA step, back to admin."""

import pytest
from playwright.sync_api import expect

from csp.models import PartnerCenterConnection, TokenCache
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY = "q5JcFh0n3n0mB7yXJ2mI1o4c8wX3aV6bTt9rS2eU5dY="


def test_an_admin_connects_partner_center_through_sign_in_and_mfa(page, shot, live_storefront, settings):
    settings.STOREFRONT_BASE_URL = live_storefront.url  # the redirect URI Microsoft sends the admin back to
    settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = KEY
    admin = UserFactory(email="admin@northwind.example", staff=True, password=PASSWORD)
    page.goto(f"{live_storefront.url}/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_storefront.url}/admin/csp/partnercenterconnection/")
    expect(page.get_by_role("heading", name="Microsoft Partner Center connection")).to_be_visible()
    page.get_by_role("button", name="Connect to Microsoft Partner Center").click()

    expect(page.get_by_role("heading", name="Sign in to your account")).to_be_visible()
    page.get_by_label("Email").fill("agent@northwind.example")
    page.get_by_label("Password").fill("sandbox-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Verify your identity")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("That code is not right.")
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Verify").click()

    expect(
        page.get_by_text("Connected to Microsoft Partner Center as agent@northwind.example (with MFA).")
    ).to_be_visible()
    expect(page.get_by_text("signed in with MFA")).to_be_visible()
    shot("admin-partner-center-connected")
    connection = PartnerCenterConnection.objects.get()
    assert (connection.account, connection.connected_by_id) == ("agent@northwind.example", admin.pk)
    assert "sandbox-rt-" not in TokenCache.objects.get(name="partner_center").data

    page.get_by_role("button", name="Register the webhook").click()
    page.get_by_role("button", name="Run the health check").click()
    expect(page.get_by_text("All 8 checks passed.")).to_be_visible()
