"""One sandbox server per test session, reset to the demo state before each test; no Django involved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from csp.sandbox.server import SandboxServer
from tests.sandbox_ids import (
    ADATUM_TENANT,
    ALPINE_TENANT,
    CONTOSO_TENANT,
    DISTRIBUTOR_TENANT_ID,
    FABRIKAM_MPN,
    FABRIKAM_TENANT,
    LITWARE_TENANT,
    TAILSPIN_TENANT,
    WINGTIP_TENANT,
    WOODGROVE_TENANT,
)

FABRIKAM = FABRIKAM_TENANT
ADATUM = ADATUM_TENANT
LITWARE = LITWARE_TENANT
TAILSPIN = TAILSPIN_TENANT
CONTOSO = CONTOSO_TENANT
WINGTIP = WINGTIP_TENANT
WOODGROVE = WOODGROVE_TENANT
ALPINE = ALPINE_TENANT


class Api(requests.Session):
    """A requests session rooted at the sandbox URL, optionally carrying a bearer token."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return super().request(method, self.base_url + url if url.startswith("/") else url, *args, **kwargs)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Accept pytest-django's --reuse-db (in pyproject addopts) when these tests run with `-p no:django`."""
    if not pluginmanager.has_plugin("django"):
        parser.addoption("--reuse-db", action="store_true", help="ignored: pytest-django is disabled")
        parser.addini("DJANGO_SETTINGS_MODULE", "ignored: pytest-django is disabled")


@pytest.fixture(scope="session")
def server() -> Iterator[SandboxServer]:
    sandbox = SandboxServer(host="127.0.0.1", port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(autouse=True)
def _fresh_state(server: SandboxServer) -> None:
    server.state.reset()


@pytest.fixture
def anon(server: SandboxServer) -> Iterator[Api]:
    with Api(server.url) as session:
        yield session


@pytest.fixture(scope="session")
def token(server: SandboxServer) -> str:
    answer = requests.post(
        f"{server.url}/{DISTRIBUTOR_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "scope": "https://api.partnercenter.microsoft.com/.default",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


@pytest.fixture
def api(server: SandboxServer, token: str) -> Iterator[Api]:
    with Api(server.url, token) as session:
        yield session


def customer_body(prefix: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enableGDAPByDefault": False,
        "CompanyProfile": {"Domain": f"{prefix}.onmicrosoft.com", "CompanyName": "Fourth Coffee"},
        "BillingProfile": {
            "Email": "it@fourthcoffee.com",
            "Culture": "en-US",
            "Language": "en",
            "CompanyName": "Fourth Coffee",
            "DefaultAddress": {
                "Country": "US",
                "City": "Redmond",
                "State": "WA",
                "AddressLine1": "1 Microsoft Way",
                "PostalCode": "98052",
                "FirstName": "Jane",
                "LastName": "Doe",
                "PhoneNumber": "4255550101",
            },
        },
    }
    body.update(overrides)
    return body


def cart_body(mpn_id: str | None = FABRIKAM_MPN, **line: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 0,
        "catalogItemId": "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
        "quantity": 2,
        "billingCycle": "monthly",
        "termDuration": "P1Y",
    }
    if mpn_id:
        item["participants"] = [{"key": "transaction_reseller", "value": mpn_id}]
    item.update(line)
    return {"PartnerOnRecordAttestationAccepted": True, "lineItems": [item]}


def mca_body(api: Api) -> dict[str, Any]:
    template = api.get("/v1/agreements?agreementType=MicrosoftCustomerAgreement").json()["items"][0][
        "templateId"
    ]
    return {
        "primaryContact": {"firstName": "Jane", "lastName": "Doe", "email": "jane@fourthcoffee.com"},
        "templateId": template,
        "dateAgreed": "2024-01-01T00:00:00Z",
        "type": "MicrosoftCustomerAgreement",
    }
