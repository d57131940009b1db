"""Fixtures that run the real Partner Center sandbox over HTTP and point the storefront's client at it.

The root conftest registers this module as a plugin, so every test can ask for `sandbox`.
"""

import pytest
import requests
from django.core.cache import cache

from csp.connection import reset_clients
from csp.sandbox.server import SandboxServer
from tests.sandbox_ids import FABRIKAM_TENANT


def accept_invitation(server, *, domain: str, reseller_tenant_id: str | None = FABRIKAM_TENANT) -> None:
    """Plays the customer's administrator accepting the invitation in the sandbox."""
    body = {"domain": domain}
    if reseller_tenant_id:
        body["reseller_tenant_id"] = reseller_tenant_id
    requests.post(f"{server.url}/_sandbox/accept", json=body, timeout=10).raise_for_status()


def sandbox_state(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/state", timeout=10).json()


@pytest.fixture(scope="session")
def sandbox_server():
    server = SandboxServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server, settings):
    """A freshly reset sandbox, with the storefront configured to talk to it (sandbox mode)."""
    requests.post(f"{sandbox_server.url}/_sandbox/reset", timeout=10).raise_for_status()
    settings.PARTNER_CENTER_MODE = "sandbox"
    settings.PARTNER_CENTER_SANDBOX_URL = sandbox_server.url
    reset_clients()
    cache.clear()
    yield sandbox_server
    reset_clients()
    cache.clear()


@pytest.fixture
def sandbox_settings(sandbox):
    return sandbox
