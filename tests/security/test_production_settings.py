"""Production settings: `check --deploy` is clean, cookies are secure and every answer carries the headers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parents[2]
SECURITY_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
)


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PARTNER_CENTER_", "STOREFRONT_", "CELERY_"))
    }
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="p" * 20 + "7Hq!2zX_9vLm#4Rt@8wN$1sK%6bY^3cJ&5dF*0gA",
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        STOREFRONT_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="storefront.settings",
    )
    return env


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    """The security settings as production computes them, read in a fresh interpreter."""
    tmp_path = tmp_path_factory.mktemp("production")
    code = (
        "import json\nfrom storefront import settings as s\n"
        f"print(json.dumps({{n: getattr(s, n, None) for n in {SECURITY_SETTINGS!r}}}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_and_transport_are_secure(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"]
    assert production["SECURE_SSL_REDIRECT"]
    assert production["SECURE_HSTS_SECONDS"] >= 31536000 and production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.django_db
def test_answers_carry_the_security_headers_and_secure_cookies(production, settings, client):
    for name, value in production.items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    plain = client.get(reverse("accounts:login"), HTTP_HOST="shop.example.com")
    assert plain.status_code == 301 and plain["Location"].startswith("https://shop.example.com/")
    response = client.get(
        reverse("accounts:login"), HTTP_HOST="shop.example.com", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.cookies["csrftoken"]["secure"]
    assert response.cookies["csrftoken"]["samesite"] == "Lax"
