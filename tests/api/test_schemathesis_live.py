"""Schemathesis with every check against the running storefront (gunicorn, sandbox mode): the schema tells the truth.

`st run --checks all` sends what the served schema calls valid (it must be accepted) and what it calls invalid
(it must be refused), follows the OpenAPI links from create to read in the stateful phase, and fails on any finding.
SCHEMATHESIS_MAX_EXAMPLES raises the examples per operation for a longer run by hand.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.api.live_server import BIN, with_real_password_hash
from tests.factories import PASSWORD, EndCustomerFactory, ProductFactory, TenantAuthorizationFactory
from tests.sandbox_ids import CONTOSO_TENANT

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))

pytestmark = [pytest.mark.schema_fuzz, pytest.mark.postgres]


@pytest.fixture
def reseller_world(owner, reseller):
    """What the generated ids may hit: a product, an end-customer and a verified tenant of the reseller."""
    ProductFactory(name="Microsoft 365 Business Basic", price="6.00")
    contoso = EndCustomerFactory(reseller=reseller, company_name="Contoso Ltd")
    TenantAuthorizationFactory(
        organization=reseller, end_customer=contoso, verified=True, customer_tenant_id=CONTOSO_TENANT
    )
    return with_real_password_hash(owner)


def api_token(base_url: str, user) -> str:
    """A token the way an integrator gets one: POST /api/v1/auth/token/."""
    response = requests.post(
        f"{base_url}/api/v1/auth/token/", json={"username": user.email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_schemathesis_finds_nothing_with_every_check(live_storefront, reseller_world, tmp_path):
    token = api_token(live_storefront, reseller_world)
    report = tmp_path / "report.ndjson"
    command = [
        str(BIN / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_storefront}/api/schema/?format=json",
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "15",
        "--workers",
        "2",
        "--no-shrink",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    print(output)  # the run's own report, shown by pytest on failure (and with -s)
    counts = re.search(r"Test cases:\s+(\d+) generated, (.*)", output)
    assert result.returncode == 0, output[-20000:]
    assert counts, output[-5000:]
    generated, outcome = int(counts.group(1)), counts.group(2)
    assert generated >= 15 * MAX_EXAMPLES, outcome  # every operation was exercised
    assert outcome.startswith(f"{generated} passed"), outcome  # no failure, no error
    assert "Failures:" not in output and "Errors:" not in output
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert events, "the NDJSON report is empty"
