"""Fixtures for the Partner Center client tests: the client against mocked Microsoft (`client`, `mocked`: no
network) and against the running sandbox (`url`, `live`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses

from csp.partner_center import CallRecord, PartnerCenterClient, PartnerCenterConfig

from .helpers import DISTRIBUTOR_TENANT_ID, FakeTokens
from .live import Sleeps, make_client


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Accept pytest-django's `--reuse-db` from the shared addopts when run with `-p no:django`."""
    if not pluginmanager.has_plugin("django"):
        parser.addoption("--reuse-db", action="store_true", help="ignored: pytest-django is not loaded")


@pytest.fixture
def config() -> PartnerCenterConfig:
    return PartnerCenterConfig(
        mode="live",
        tenant_id=DISTRIBUTOR_TENANT_ID,
        client_id="app-id",
        client_secret="app-secret",
        application_name="CSP Storefront tests",
    )


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def sleeps() -> Sleeps:
    """A no-op `sleep` that remembers what the client asked for, so retries cost no wall time."""
    return Sleeps()


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client(
    config: PartnerCenterConfig, tokens: FakeTokens, sleeps: Sleeps, records: list[CallRecord]
) -> PartnerCenterClient:
    return PartnerCenterClient(config, token_provider=tokens, recorder=records.append, sleep=sleeps.append)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def url(sandbox) -> Iterator[str]:
    """The sandbox's base URL, reset to the demo data before (and faults cleared after) each test."""
    yield sandbox.url
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10).raise_for_status()


@pytest.fixture
def live(url: str, sleeps: Sleeps) -> PartnerCenterClient:
    """The real client against the sandbox over HTTP, with a short backoff and no waiting."""
    return make_client(url, sleeps, timeout=5.0, max_retries=2, backoff=0.01)
