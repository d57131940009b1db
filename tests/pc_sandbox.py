"""Fixtures that run the real Partner Center sandbox over HTTP and point the storefront's client at it.

Import them in a conftest (`from tests.pc_sandbox import sandbox, sandbox_settings`) where tests need them.
"""

import pytest
import requests
from django.core.cache import cache

from csp.connection import reset_clients
from csp.sandbox.server import SandboxServer


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
