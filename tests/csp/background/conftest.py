"""Fixtures for background verification, webhooks and GDAP: the live sandbox and signed deliveries."""

import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from csp.models import TenantAuthorization
from csp.sandbox.webhooks import CERTIFICATE_PATH
from tests.factories import EndCustomerFactory, TenantAuthorizationFactory


@pytest.fixture
def control(request):
    """POST to the sandbox's control API and return the JSON answer."""
    live = request.getfixturevalue("sandbox")

    def post(path: str, body: dict | None = None) -> dict:
        answer = requests.post(f"{live.url}/_sandbox/{path.lstrip('/')}", json=body or {}, timeout=30)
        answer.raise_for_status()
        return answer.json()

    return post


@pytest.fixture
def signed_delivery(request):
    """A delivery signed by the sandbox's own key, exactly as the sandbox sends them."""
    live = request.getfixturevalue("sandbox")

    def build(event: str, resource_uri: str, resource_name: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "EventName": event,
                "ResourceUri": resource_uri,
                "ResourceName": resource_name,
                "AuditUri": None,
                "ResourceChangeUtcDate": timezone.now().isoformat(),
            }
        ).encode()
        headers = {
            "Authorization": f"Signature {live.signer.sign(body)}",
            "x-ms-certificate-url": live.url + CERTIFICATE_PATH,
            "x-ms-signature-algorithm": "rsa-sha256",
        }
        return body, headers

    return build


@pytest.fixture
def contoso(reseller):
    return EndCustomerFactory(reseller=reseller, company_name="Contoso Ltd")


def pending(organization, *, prefix: str, tenant_id: str = "", **extra) -> TenantAuthorization:
    """A pending authorization due for a check now, as checkout leaves it."""
    values = {
        "domain_prefix": prefix,
        "default_domain": f"{prefix}.onmicrosoft.com",
        "expected_tenant_id": tenant_id,
        "next_check_at": timezone.now() - timedelta(seconds=1),
    }
    if organization is not None:
        values["organization"] = organization
    values.update(extra)
    return TenantAuthorizationFactory(**values)


@pytest.fixture
def no_retry_sleep(request):
    """The client's retry backoff without the waiting, for tests where Microsoft is down."""
    request.getfixturevalue("sandbox")
    from csp.connection import partner_center

    client = partner_center()
    original = client.retry_policy.sleeper
    client.retry_policy.sleeper = lambda seconds: None
    yield
    client.retry_policy.sleeper = original
