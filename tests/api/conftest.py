"""API fixtures: token-authenticated clients for the shared personas, a catalog, and the sandbox over HTTP."""

import pytest
import requests
from rest_framework.test import APIClient

from storefront.accounts.tokens import api_token_create
from tests.api.live_server import _seed_rows_back_after_flush, live_storefront  # noqa: F401  (gunicorn)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "schema_fuzz: property-based run of the OpenAPI schema (schemathesis); part of the CI suite",
    )


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _, secret = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.fixture
def api():
    """Builds an APIClient holding a user's token: `api(owner).get(...)`."""
    return api_client_for


@pytest.fixture
def owner_api(owner):
    return api_client_for(owner)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counters and lookups live in the cache: a per-process one, empty at each test.

    The default file cache is shared by every process, so parallel test runs would clear each other's counters.
    """
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def sandbox_faults(server, spec: dict) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=spec, timeout=10).raise_for_status()


def assert_error(response, status: int, code: str) -> dict:
    """The API's one error shape, with the expected status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    return body
