"""Going live: connecting Partner Center from admin, ordering paused without it, staff warned, the health check."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from csp import connect, token_cache
from csp.connection import partner_center, reset_clients
from csp.models import PartnerCenterConnection, TokenCache
from csp.partner_center.exceptions import PartnerCenterNotConnected

pytestmark = pytest.mark.django_db
PAGE = "admin:csp_partnercenterconnection_changelist"
KEY = "q5JcFh0n3n0mB7yXJ2mI1o4c8wX3aV6bTt9rS2eU5dY="


@pytest.fixture
def live(settings):
    """Live mode with no connection; `responses` answers msal's authority discovery and refuses anything else."""
    settings.PARTNER_CENTER_MODE = "live"
    settings.PARTNER_CENTER_REFRESH_TOKEN = ""
    settings.PARTNER_CENTER_CLIENT_SECRET = "secret"
    authority = f"https://login.microsoftonline.com/{settings.PARTNER_CENTER_TENANT_ID}"
    reset_clients()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(
            f"{authority}/v2.0/.well-known/openid-configuration",
            json={
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "issuer": f"{authority}/v2.0",
            },
        )
        mocked.get(
            "https://login.microsoftonline.com/common/discovery/instance",
            json={
                "tenant_discovery_endpoint": f"{authority}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": ["login.microsoftonline.com", "login.windows.net"],
                    }
                ],
            },
        )
        settings.mocked = mocked
        yield settings
    reset_clients()


def test_admin_shows_a_red_banner_in_live_mode_without_a_connection(client, staff_user, live):
    client.force_login(staff_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert "Microsoft Partner Center is not connected: ordering is paused for buyers." in page
    assert reverse(PAGE) in page


def test_no_banner_once_connected_or_in_sandbox_mode(client, staff_user, live):
    client.force_login(staff_user)
    PartnerCenterConnection.objects.create(
        pk=1, account="agent@northwind.example", connected_at=timezone.now()
    )

    assert "ordering is paused" not in client.get(reverse("admin:index")).content.decode()
    live.PARTNER_CENTER_MODE = "sandbox"
    PartnerCenterConnection.objects.all().delete()
    assert "ordering is paused" not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/domains/newco/", None),
        ("post", "/api/v1/mpn-validations/", {"mpn_id": "1234567"}),
        ("post", "/api/v1/authorizations/", {"domain_prefix": "newco"}),
        ("post", "/api/v1/orders/", {"lines": []}),
    ],
)
def test_the_api_answers_partner_center_unavailable_while_paused(owner, live, method, path, body):
    from storefront.accounts.tokens import api_token_create

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=owner, name='tests')[1]}")

    answer = getattr(api, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert answer.status_code == 503
    assert answer.json()["code"] == "partner_center_unavailable"
    assert answer.json()["message"] == connect.ORDERING_PAUSED_MESSAGE
    assert partner_center().call_count == 0


def test_live_mode_never_falls_back_to_app_only_for_partner_center(live):
    with pytest.raises(PartnerCenterNotConnected):
        partner_center().token_provider.token("partner_center")


def test_connecting_needs_the_encryption_key_in_live_mode(client, staff_user, live):
    client.force_login(staff_user)
    live.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = ""

    answer = client.post(reverse("admin:csp_partnercenterconnection_connect"), follow=True)

    assert "Set PARTNER_CENTER_TOKEN_ENCRYPTION_KEY before connecting" in answer.content.decode()


def _sign_in(auth_uri: str) -> dict[str, str]:
    """The Admin agent at the sandbox's sign-in page and MFA step; returns Microsoft's redirect parameters."""
    page = requests.get(auth_uri, timeout=10).text.split("</form>")[0]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    fields = {k: unescape(v) for k, v in hidden.items()}
    mfa = requests.post(
        auth_uri.split("?")[0],
        data={**fields, "username": "agent@northwind.example", "password": "p"},
        timeout=10,
    )
    fields = {
        k: unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', mfa.text)
    }
    answer = requests.post(
        auth_uri.split("?")[0], data={**fields, "otc": "123456"}, allow_redirects=False, timeout=10
    )
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def test_an_admin_connects_and_the_token_cache_is_stored_encrypted(client, staff_user, sandbox, settings):
    settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = KEY
    client.force_login(staff_user)

    start = client.post(reverse("admin:csp_partnercenterconnection_connect"))
    assert start.status_code == 302
    params = _sign_in(start["Location"])
    callback = urlsplit(reverse("admin:csp_partnercenterconnection_callback"))
    done = client.get(callback.path, params, follow=True)

    assert (
        "Connected to Microsoft Partner Center as agent@northwind.example (with MFA)."
        in done.content.decode()
    )
    connection = PartnerCenterConnection.objects.get()
    assert (connection.account, connection.mfa, connection.connected_by) == (
        "agent@northwind.example",
        True,
        staff_user,
    )
    stored = TokenCache.objects.get(name="partner_center").data
    assert "sandbox-rt-" not in stored and stored.startswith("gAAAA")  # Fernet, not the refresh token
    assert token_cache.EncryptedTokenCacheStore().load().startswith('{"refresh_token": "sandbox-rt-')
    # the callback is single use: replaying it connects nothing
    replay = client.get(callback.path, params, follow=True)
    assert "This sign-in was not started here" in replay.content.decode()


def test_a_forged_callback_state_connects_nothing(client, staff_user, sandbox, settings):
    settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = KEY
    client.force_login(staff_user)
    start = client.post(reverse("admin:csp_partnercenterconnection_connect"))
    params = _sign_in(start["Location"]) | {"state": "forged"}

    answer = client.get(reverse("admin:csp_partnercenterconnection_callback"), params, follow=True)

    assert "does not match the connection that was started" in answer.content.decode()
    assert not PartnerCenterConnection.objects.filter(connected_at__isnull=False).exists()


def test_only_staff_reach_the_connection_page(client, owner):
    client.force_login(owner)

    assert client.get(reverse(PAGE)).status_code == 302  # to the admin sign-in
    assert client.post(reverse("admin:csp_partnercenterconnection_connect")).status_code == 302
    assert not TokenCache.objects.exists()


def _connected(**fields) -> PartnerCenterConnection:
    values = {
        "pk": 1,
        "account": "agent@northwind.example",
        "connected_at": timezone.now() - timedelta(days=80),
    }
    return PartnerCenterConnection.objects.create(**(values | fields))


def test_a_broken_connection_pauses_ordering_and_emails_staff_once(
    staff_user, live, django_capture_on_commit_callbacks
):
    _connected()
    assert connect.partner_center_connected() is True

    with django_capture_on_commit_callbacks(execute=True):
        assert connect.connection_mark_broken(reason="AADSTS700082: the refresh token has expired") is True
        assert connect.connection_mark_broken(reason="again") is False

    assert connect.partner_center_connected() is False
    [email] = mail.outbox
    assert email.to == [staff_user.email]
    assert "ordering is paused" in email.subject
    assert "AADSTS700082" in email.body


def test_the_watch_warns_staff_before_the_refresh_token_ages_out(
    staff_user, live, monkeypatch, django_capture_on_commit_callbacks
):
    _connected(last_refreshed_at=timezone.now() - timedelta(days=80))
    monkeypatch.setattr(partner_center().token_provider, "token", lambda resource: "at")

    with django_capture_on_commit_callbacks(execute=True):
        assert connect.connection_watch() == "ages out soon"
        assert connect.connection_watch() == "ages out soon"

    [email] = mail.outbox
    assert "ages out soon" in email.subject
    assert PartnerCenterConnection.objects.get().expiry_warned_at is not None


def test_the_watch_marks_a_refused_connection_broken(
    staff_user, live, monkeypatch, django_capture_on_commit_callbacks
):
    _connected(last_refreshed_at=timezone.now())

    def refused(resource):
        raise PartnerCenterNotConnected(
            "The Partner Center connection no longer works (invalid_grant)", error="invalid_grant"
        )

    monkeypatch.setattr(partner_center().token_provider, "token", refused)
    with django_capture_on_commit_callbacks(execute=True):
        assert connect.connection_watch() == "broken"

    assert PartnerCenterConnection.objects.get().broken_at is not None
    assert len(mail.outbox) == 1


def test_partner_center_check_passes_against_the_sandbox_once_the_webhook_is_registered(sandbox, settings):
    from csp import health, webhooks

    out = StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("partner_center_check", stdout=out)
    assert failed.value.code == 1
    assert "FAIL  Webhook registration: No webhook is registered." in out.getvalue()
    assert "To fix: Register the webhook" in out.getvalue()

    webhooks.webhook_register(url=health.webhook_receiver_url())
    out = StringIO()
    call_command("partner_center_check", stdout=out)

    assert "All 8 checks passed." in out.getvalue()
    for name in (
        "App+User token",
        "App-only token",
        "Reseller list",
        "Relationship link",
        "Customer list",
        "Agreement status",
        "Graph GDAP list",
        "Webhook registration",
    ):
        assert f"ok    {name}:" in out.getvalue()


def test_the_check_says_what_to_fix_in_live_mode_without_a_connection(live, client, staff_user, monkeypatch):
    monkeypatch.setattr(partner_center().token_provider, "app_only_token", lambda resource: "at")
    from csp.health import health_check

    probes = {p.name: p for p in health_check()}

    assert probes["App+User token"].ok is False
    assert "Connect again as an Admin agent with MFA" in probes["App+User token"].fix
    assert probes["App-only token"].ok is True
    client.force_login(staff_user)
    page = client.post(reverse("admin:csp_partnercenterconnection_check")).content.decode()
    assert "checks failed." in page and "Partner Center is not connected" in page
