"""Fixtures for the Partner Center client tests; no Django, no network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from csp.partner_center import CallRecord, PartnerCenterClient, PartnerCenterConfig

from .helpers import DISTRIBUTOR_TENANT_ID, FakeTokens


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
def sleeps() -> list[float]:
    return []


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client(
    config: PartnerCenterConfig, tokens: FakeTokens, sleeps: list[float], records: list[CallRecord]
) -> PartnerCenterClient:
    return PartnerCenterClient(config, token_provider=tokens, recorder=records.append, sleep=sleeps.append)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
