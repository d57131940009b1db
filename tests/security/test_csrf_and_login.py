"""CSRF on every form and no open redirect after sign-in (the sign-in lockout: test_sign_in_lockout.py)."""

import pytest
from django.test import Client
from django.urls import reverse

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
