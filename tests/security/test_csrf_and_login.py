"""CSRF on every form, no open redirect after sign-in, and sign-in throttling."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from storefront.accounts import throttling
from tests.factories import PASSWORD
from tests.security.routes import named_routes
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

# Signed by Microsoft or holding no session: the only routes that may take a POST without a CSRF token.
CSRF_EXEMPT = {"csp:partner-center-webhook", "api:token"}


def _sign_in(client, email, password, **extra):
    return client.post(reverse("accounts:login"), {"username": email, "password": password, **extra})


def test_every_post_without_a_csrf_token_is_refused(owner, sandbox):
    world = build_world(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    checked = []
    for name, pattern in named_routes():
        if name in CSRF_EXEMPT or (name.startswith("admin:") and pattern.pattern.regex.groupindex):
            continue
        url = reverse(name, kwargs=world.kwargs_for(pattern))
        response = client.post(url, {"quantity": "1", "domain_prefix": "contoso"})
        assert response.status_code == 403, f"{name} accepted a POST without a CSRF token"
        checked.append(name)
    assert "checkout:review" in checked and "checkout:service_details_check" in checked


def test_sign_in_form_itself_needs_the_token(owner):
    client = Client(enforce_csrf_checks=True)
    assert _sign_in(client, owner.email, PASSWORD).status_code == 403
    page = client.get(reverse("accounts:login"))
    token = page.cookies["csrftoken"].value
    response = _sign_in(client, owner.email, PASSWORD, csrfmiddlewaretoken=token)
    assert response.status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:/evil.example",
        "\\\\evil.example",
        "http://testserver@evil.example/",
        "javascript:alert(1)",
    ],
)
def test_no_open_redirect_after_sign_in(owner, client, target):
    response = _sign_in(client, owner.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = client.get(reverse("accounts:login"), {"next": target})
    assert response["Location"] == "/"


def test_sign_in_follows_a_local_next(owner, client):
    response = _sign_in(client, owner.email, PASSWORD, next="/orders/")
    assert response["Location"] == "/orders/"


def test_five_failures_for_an_email_pause_its_sign_in_for_15_minutes(owner, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with freeze_time() as clock:
        for _ in range(4):
            assert _sign_in(client, owner.email, "wrong").status_code == 200
        fifth = _sign_in(client, owner.email, "wrong")
        assert fifth.status_code == 429
        refused = _sign_in(client, owner.email, PASSWORD)
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "Too many failed sign-in attempts" in page and "15 minutes" in page
        assert owner.email in page  # what was typed is kept
        assert "_auth_user_id" not in client.session
        clock.tick(timedelta(minutes=14))
        assert _sign_in(client, owner.email, PASSWORD).status_code == 429
        clock.tick(timedelta(minutes=1, seconds=1))
        assert _sign_in(client, owner.email, PASSWORD).status_code == 302


def test_five_failures_from_one_address_pause_every_email_from_it(owner, teammate, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for n in range(5):
        _sign_in(client, f"guess{n}@example.com", "wrong")
    assert _sign_in(client, teammate.email, PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    assert _sign_in(elsewhere, teammate.email, PASSWORD).status_code == 302


def test_failures_spread_over_more_than_15_minutes_do_not_lock(owner, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with freeze_time() as clock:
        for _ in range(4):
            _sign_in(client, owner.email, "wrong")
        clock.tick(timedelta(minutes=16))
        assert _sign_in(client, owner.email, "wrong").status_code == 200
        assert _sign_in(client, owner.email, PASSWORD).status_code == 302


def test_a_success_clears_the_emails_count(owner, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for _ in range(3):
        _sign_in(client, owner.email, "wrong")
    assert _sign_in(client, owner.email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    other = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(4):
        assert _sign_in(other, owner.email, "wrong").status_code == 200


def test_the_client_address_comes_from_the_proxy_header_only_when_configured(rf, settings):
    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    settings.LOGIN_THROTTLE_CLIENT_IP_HEADER = ""
    assert throttling.client_ip(request) == "10.0.0.1"
    settings.LOGIN_THROTTLE_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert throttling.client_ip(request) == "203.0.113.9"


def _token(email, password, ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": email, "password": password}, content_type="application/json"
    )


def test_the_token_endpoint_shares_the_sign_in_lockout(owner, client, settings):
    """Password guesses through the API count with the form's: neither is a way around the other's lockout."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    rates = settings.REST_FRAMEWORK[
        "DEFAULT_THROTTLE_RATES"
    ]  # the per-address rate is another test's subject
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "token": None}}
    with freeze_time() as clock:
        for _ in range(2):
            assert _sign_in(client, owner.email, "wrong").status_code == 200
        for n in range(2):  # each guess from another address: the per-address rate never applies
            assert _token(owner.email, "wrong", ip=f"10.0.1.{n}").status_code == 400
        fifth = _token(owner.email.upper(), "wrong", ip="10.0.2.1")
        assert fifth.status_code == 429
        body = fifth.json()
        assert body["code"] == "throttled" and body["message"].startswith(throttling.LOCKED_MESSAGE)
        assert "900 seconds" in body["message"]
        assert fifth["Retry-After"] == "900"
        assert _sign_in(Client(REMOTE_ADDR="10.0.3.1"), owner.email, PASSWORD).status_code == 429
        clock.tick(timedelta(minutes=10))
        refused = _token(owner.email, PASSWORD, ip="10.0.4.1")
        assert refused.status_code == 429 and refused["Retry-After"] == "300"
        assert "token" not in refused.json()
        clock.tick(timedelta(minutes=5, seconds=1))
        assert "token" in _token(owner.email, PASSWORD, ip="10.0.4.1").json()


def test_a_token_issued_clears_the_emails_count(owner, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for n in range(4):
        _token(owner.email, "wrong", ip=f"10.0.5.{n}")
    assert _token(owner.email, PASSWORD, ip="10.0.6.1").status_code == 200
    for n in range(4):
        assert _token(owner.email, "wrong", ip=f"10.0.7.{n}").status_code == 400
