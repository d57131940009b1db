"""The OpenAPI schema, the offline docs page, and a property-based run of every operation against the app."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storefront.api import docs as api_docs
from storefront.wsgi import application
from tests.factories import EndCustomerFactory, ProductFactory

OPERATIONS = {
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/products/", "get"),
    ("/api/v1/end-customers/", "get"),
    ("/api/v1/end-customers/", "post"),
    ("/api/v1/end-customers/{end_customer_id}/", "get"),
    ("/api/v1/domains/{prefix}/", "get"),
    ("/api/v1/mpn-validations/", "post"),
    ("/api/v1/authorizations/", "post"),
    ("/api/v1/authorizations/{authorization_id}/", "get"),
    ("/api/v1/authorizations/{authorization_id}/verify/", "post"),
    ("/api/v1/gdap-role-templates/", "get"),
    ("/api/v1/gdap-requests/", "post"),
    ("/api/v1/gdap-requests/{gdap_request_id}/", "get"),
    ("/api/v1/orders/", "post"),
    ("/api/v1/orders/{order_id}/", "get"),
    ("/api/v1/event-endpoints/", "get"),
    ("/api/v1/event-endpoints/", "post"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "get"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "patch"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "delete"),
    ("/api/v1/event-endpoints/{endpoint_id}/test/", "post"),
    ("/api/v1/event-endpoints/{endpoint_id}/deliveries/", "get"),
    ("/api/v1/event-deliveries/{delivery_id}/redeliver/", "post"),
}


@pytest.mark.django_db
def test_schema_lists_every_operation_with_the_error_body(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == OPERATIONS
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"code", "message", "fields"}
    orders = schema["paths"]["/api/v1/orders/"]["post"]
    assert {"201", "200", "400", "401", "403", "409", "503"} <= set(orders["responses"])
    key = next(p for p in orders["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert "429" in schema["paths"]["/api/v1/domains/{prefix}/"]["get"]["responses"]


@pytest.mark.django_db
def test_docs_page_serves_swagger_ui_from_this_server(client):
    if api_docs.swagger_dist() is None:
        pytest.skip("drf-spectacular-sidecar is not installed; the fallback page is tested below")
    page = client.get("/api/docs/").content.decode()
    assert "SwaggerUIBundle" in page
    assert 'src="/api/docs/assets/swagger-ui-bundle.js"' in page
    assert "http" not in page.split("<body>")[1].replace("'", '"').split('url: "')[0]  # no CDN
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset["Content-Type"] in {"text/javascript", "application/javascript"}
    assert client.get("/api/docs/assets/..%2Fsettings.py").status_code == 404


@pytest.mark.django_db
def test_docs_page_without_the_sidecar_lists_the_operations_offline(client, monkeypatch):
    monkeypatch.setattr(api_docs, "swagger_dist", lambda: None)
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in page and "https://" not in page
    for path, method in OPERATIONS:
        assert path in page
    assert "Get an API token" in page
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 404


# Property-based run ------------------------------------------------------------------------------------------


@pytest.fixture
def contoso_for_fuzz(owner):
    """Some objects for the generated ids to hit now and then."""
    ProductFactory()
    return EndCustomerFactory(reseller=owner.organization)


@pytest.fixture
def owner_token(owner) -> str:
    return Token.objects.get_or_create(user=owner)[0].key


# The schema served by the app itself: the calls go to the WSGI app in-process, Partner Center calls to the sandbox.
fuzzed = schemathesis.openapi.from_wsgi("/api/schema/", application)
# CI runs 20 deterministic examples per operation; SCHEMA_FUZZ_EXAMPLES=500 explores further (randomly) by hand.
FUZZ_EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "20"))
fuzzed.config.generation.update(
    max_examples=FUZZ_EXAMPLES, database="none", deterministic=FUZZ_EXAMPLES == 20
)


@pytest.mark.schema_fuzz
@fuzzed.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_operation_answers_500_or_breaks_its_schema(
    case, owner_token, contoso_for_fuzz, sandbox, settings_override, keep_test_connection
):
    case.call_and_validate(
        headers={"Authorization": f"Token {owner_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@pytest.fixture
def settings_override(settings):
    """Generous lookup and token rates: the run is about shapes, not throttling (tested on its own)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"lookup": "100000/min", "token": "100000/min"},
    }


@pytest.fixture
def keep_test_connection():
    """Calls go through the real WSGI handler, whose request signals would close the test's database connection
    (it sits in the test's transaction); Django's own test client disconnects them the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
