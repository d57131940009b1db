"""Helpers for the Partner Center client tests: constants, documented payloads, a fake token provider, what the
mocked Microsoft received."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from csp.partner_center import Address, NewCustomer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "partner_center"
API = "https://api.partnercenter.microsoft.com"
LOGIN = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
SALES = "https://api.partner.microsoft.com"
DISTRIBUTOR_TENANT_ID = "d1570b00-0000-4000-8000-000000000001"
CONTOSO_TENANT = "33333333-3333-4333-8333-000000000001"
FABRIKAM_TENANT = "22222222-2222-4222-8222-222222222222"
GDAP_ID = "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
DOMAIN_URL = f"{API}/v1/domains/contoso.onmicrosoft.com"
CUSTOMERS_URL = f"{API}/v1/customers"
CUSTOMER_URL = f"{API}/v1/customers/33333333-3333-4333-8333-000000000005"
SHEET = f"{SALES}/v1.0/sales/pricesheets(Market='US',PricesheetView='updatedlicensebased')/$value"
CSV = b"\xef\xbb\xbfProductId,SkuId\r\nCFQ7TTC0LH18,0001\r\n"


def load(name: str) -> Any:
    """A documented payload from tests/fixtures/partner_center."""
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


class FakeTokens:
    """Hands out numbered tokens per resource; a 401 test sees the number move after invalidate()."""

    def __init__(self) -> None:
        self.generation = {"partner_center": 1, "graph": 1, "partner_sales": 1}
        self.invalidated: list[str | None] = []

    def token(self, resource: str) -> str:
        return f"{resource}-token-{self.generation[resource]}"

    def invalidate(self, resource: str | None = None) -> None:
        self.invalidated.append(resource)
        for name in [resource] if resource else list(self.generation):
            self.generation[name] += 1


def sent(mocked: responses.RequestsMock, index: int = 0):
    return mocked.calls[index].request


def query(mocked: responses.RequestsMock, index: int = 0) -> dict[str, list[str]]:
    return parse_qs(urlsplit(sent(mocked, index).url).query)


def body(mocked: responses.RequestsMock, index: int = 0):
    return json.loads(sent(mocked, index).body)


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def request_ids(mocked: responses.RequestsMock) -> set[str]:
    return {call.request.headers["MS-RequestId"] for call in mocked.calls}


def correlation_ids(mocked: responses.RequestsMock) -> set[str]:
    return {call.request.headers["MS-CorrelationId"] for call in mocked.calls}


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def new_customer(**overrides) -> NewCustomer:
    values = dict(
        domain="northwindtraders.onmicrosoft.com",
        company_name="Northwind Traders",
        email="it@northwindtraders.com",
        first_name="Jane",
        last_name="Doe",
        phone_number="4255550101",
        address=Address(
            country="US", city="Redmond", state="WA", address_line1="1 Microsoft Way", postal_code="98052"
        ),
        associated_partner_id=FABRIKAM_TENANT,
    )
    values.update(overrides)
    return NewCustomer(**values)
