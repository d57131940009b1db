"""Content-Security-Policy: every answer carries it, it allows nothing inline, and no template needs it to."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from storefront.security import content_security_policy

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\shx-on", re.I), "hx-on handler (evaluated code)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_the_policy_allows_nothing_inline(settings):
    header = content_security_policy()
    assert header.startswith("default-src 'self'; script-src 'self'; style-src 'self';")
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_script_style_or_handler(path):
    text = (TEMPLATES / path).read_text()
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{path}: {found} (move it to static/js/storefront.js or static/css/storefront.css)"


@pytest.mark.django_db
def test_pages_api_answers_and_errors_carry_the_policy(owner, client, settings):
    expected = content_security_policy()
    anonymous = [reverse("accounts:login"), reverse("catalog"), "/no-such-page/", "/api/v1/products/"]
    for url in anonymous:
        assert client.get(url)["Content-Security-Policy"] == expected, url
    client.force_login(owner)
    for url in [
        reverse("dashboard:home"),
        reverse("accounts:api_tokens"),
        "/api/v1/auth/tokens/",
        "/api/docs/",
    ]:
        assert client.get(url)["Content-Security-Policy"] == expected, url


@pytest.mark.django_db
def test_the_lockout_answer_carries_the_policy_too(owner, settings):
    client = Client(REMOTE_ADDR="10.3.0.1")
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": owner.email, "password": "wrong"})
    assert response.status_code == 429
    assert response["Content-Security-Policy"] == content_security_policy()


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_or_copy_styles_nor_to_evaluate_code(client):
    """htmx would add a <style> for its indicators, and copy `style` attributes while settling a swap (a blocked
    inline style on Service Details); neither is needed."""
    page = client.get(reverse("accounts:login")).content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert "style" not in config["attributesToSettle"]


def test_forms_may_go_on_to_microsofts_sign_in_and_nowhere_else(settings):
    """The admin's Connect and the tenant administrator's Sign in post here and are redirected to Microsoft."""
    settings.PARTNER_CENTER_MODE = "live"
    settings.MICROSOFT_LOGIN_URL = "https://login.microsoftonline.com"
    assert "form-action 'self' https://login.microsoftonline.com;" in content_security_policy()
    settings.PARTNER_CENTER_MODE = "sandbox"
    settings.PARTNER_CENTER_SANDBOX_URL = "http://127.0.0.1:8765"
    assert "form-action 'self' http://127.0.0.1:8765;" in content_security_policy()
