"""API fixtures: token-authenticated clients for the shared personas, a catalog, and the sandbox over HTTP."""

import pytest
import requests
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from storefront.celery import app as celery_app
from tests.factories import EndCustomerFactory, ProductFactory
from tests.pc_sandbox import sandbox, sandbox_server  # noqa: F401

FABRIKAM_MPN = "1234567"
FABRIKAM_TENANT = "22222222-2222-4222-8222-222222222222"
CONTOSO_TENANT = "33333333-3333-4333-8333-000000000001"
NO_AGREEMENT_MPN = "3456789"
OUTSIDE_MPN = "4567890"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "schema_fuzz: property-based run of the OpenAPI schema (schemathesis); part of the CI suite",
    )


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
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


@pytest.fixture
def eager_worker(settings):
    """Runs the worker's tasks inline, so a test sees the order placed with the sandbox."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def product(db):
    return ProductFactory(name="Microsoft 365 Business Basic", price="6.00")


@pytest.fixture
def contoso(reseller):
    return EndCustomerFactory(
        reseller=reseller, company_name="Contoso Ltd", first_name="Jane", last_name="Doe"
    )


def accept_invitation(server, *, domain: str, reseller_tenant_id: str | None = FABRIKAM_TENANT) -> None:
    """Plays the customer's administrator accepting the invitation in the sandbox."""
    body = {"domain": domain}
    if reseller_tenant_id:
        body["reseller_tenant_id"] = reseller_tenant_id
    requests.post(f"{server.url}/_sandbox/accept", json=body, timeout=10).raise_for_status()


def sandbox_state(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/state", timeout=10).json()


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
