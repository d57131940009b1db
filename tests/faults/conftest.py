"""Fault injection against the real sandbox: a small backoff and timeout so Microsoft's bad days run fast."""

import dataclasses

import pytest
import requests
from django.core.cache import cache

from csp import connection

FAST_BACKOFF = 0.01


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch, settings):
    """The real client, real sleeps and real sockets, with a 10 ms backoff and a 0.3 s timeout per call."""
    settings.PARTNER_CENTER_TIMEOUT = 0.3
    original = connection.partner_center_config

    def config():
        return dataclasses.replace(original(), backoff=FAST_BACKOFF, max_retry_after=2.0)

    monkeypatch.setattr(connection, "partner_center_config", config)
    connection.reset_clients()
    cache.clear()
    yield
    connection.reset_clients()


@pytest.fixture
def faults(request):
    """faults(**spec) replaces the sandbox's fault plan; cleared after the test."""
    url = request.getfixturevalue("sandbox").url

    def plan(**spec):
        requests.post(f"{url}/_sandbox/faults", json=spec, timeout=10).raise_for_status()

    yield plan
    requests.delete(f"{url}/_sandbox/faults", timeout=10)


def request_log(server) -> list[dict]:
    """What the sandbox received, with each request's MS-RequestId."""
    return requests.get(f"{server.url}/_sandbox/requests", timeout=10).json()["requests"]
