"""The served schema is usable as is: openapi-python-client generates a client from /api/schema/, and that client
signs in, checks a domain prefix (taken, free, malformed) and lists the catalog against the running storefront."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.api.live_server import BIN, with_real_password_hash
from tests.factories import PASSWORD, ProductFactory

PACKAGE = "csp_storefront_client"

pytestmark = [pytest.mark.schema_fuzz, pytest.mark.postgres]


def generate_client(schema_url: str, folder) -> None:
    """What docs/api.md tells integrators to run; no post-generation formatting (nothing to install for it)."""
    config = folder / "client-config.yaml"
    config.write_text("post_hooks: []\n")
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--url",
            schema_url,
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A schema the generator had to skip parts of is not "usable as is".
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.fixture
def generated_client(live_storefront, tmp_path, monkeypatch):
    generate_client(f"{live_storefront}/api/schema/?format=json", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_a_client_generated_from_the_schema_works_against_the_storefront(
    generated_client, live_storefront, owner
):
    with_real_password_hash(owner)
    ProductFactory(name="Microsoft 365 Business Basic", price="6.00")
    auth = importlib.import_module(f"{PACKAGE}.api.auth.auth_token_create")
    domains = importlib.import_module(f"{PACKAGE}.api.lookups.domains_retrieve")
    products = importlib.import_module(f"{PACKAGE}.api.catalog.products_list")
    models = importlib.import_module(f"{PACKAGE}.models")

    anonymous = generated_client.Client(base_url=live_storefront)
    token = auth.sync(client=anonymous, body=models.TokenRequest(username=owner.email, password=PASSWORD))
    assert isinstance(token, models.Token), token
    client = generated_client.AuthenticatedClient(base_url=live_storefront, token=token.token, prefix="Token")

    taken = domains.sync(client=client, prefix="contoso")
    assert isinstance(taken, models.DomainCheck)
    assert (taken.domain, taken.available) == ("contoso.onmicrosoft.com", False)
    assert domains.sync(client=client, prefix="fabrikamnew42").available is True

    refused = domains.sync(client=client, prefix="con-toso")
    assert type(refused).__name__ == "DomainsRetrieveResponse400"
    assert refused.code.value == "invalid"
    assert "letters (a-z) and digits" in refused.message

    catalog = products.sync(client=client)
    assert catalog.count == 1
    assert [product.name for product in catalog.results] == ["Microsoft 365 Business Basic"]
    assert str(catalog.results[0].price) == "6.60"  # the reseller's price: cost 6.00 plus the default 10 %
