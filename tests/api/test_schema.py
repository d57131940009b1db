"""The OpenAPI schema states the server's rules, and the offline docs page.

The schema is exercised with every schemathesis check against the running storefront in test_schemathesis_live.py.
"""

import pytest

from storefront.api import docs as api_docs

OPERATIONS = {
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/tokens/", "get"),
    ("/api/v1/auth/tokens/{token_id}/", "delete"),
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
    ("/api/v1/gdap-requests/", "get"),
    ("/api/v1/gdap-requests/{gdap_request_id}/", "get"),
    ("/api/v1/orders/", "post"),
    ("/api/v1/orders/{order_id}/", "get"),
    ("/api/v1/event-endpoints/", "get"),
    ("/api/v1/event-endpoints/", "post"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "get"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "patch"),
    ("/api/v1/event-endpoints/{endpoint_id}/", "delete"),
    ("/api/v1/event-endpoints/{endpoint_id}/test/", "post"),
    ("/api/v1/event-endpoints/{endpoint_id}/rotate-secret/", "post"),
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
    listed = schema["paths"]["/api/v1/gdap-requests/"]["get"]  # POST is gone: said where integrators look
    assert "405 method_not_allowed" in listed["description"]


@pytest.fixture
def schema(client):
    return client.get("/api/schema/?format=json").json()


def error_codes(operation: dict, status: str) -> list[str]:
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    assert body["allOf"][0] == {"$ref": "#/components/schemas/Error"}
    return body["allOf"][1]["properties"]["code"]["enum"]


@pytest.mark.django_db
def test_every_error_answer_is_the_shared_error_with_the_codes_it_may_carry(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "fields"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in operation["responses"]:
                if status[0] in "45":
                    assert error_codes(operation, status), (path, method, status)
    orders = schema["paths"]["/api/v1/orders/"]["post"]
    assert error_codes(orders, "400") == [
        "invalid",
        "idempotency_key_required",
        "product_withdrawn",
        "billing_address_required",
        "mpn_not_in_network",
        "end_customer_mismatch",
    ]
    assert error_codes(orders, "403") == ["forbidden", "mpn_id_not_yours"]
    assert "tenant_held_by_another_organization" in error_codes(orders, "409")
    authorizations = schema["paths"]["/api/v1/authorizations/"]["post"]
    assert "no_tenant_for_domain" in error_codes(authorizations, "400")
    assert error_codes(schema["paths"]["/api/v1/products/"]["get"], "401") == ["not_authenticated"]


@pytest.mark.django_db
def test_the_schema_states_the_formats_the_server_enforces(schema):
    components = schema["components"]["schemas"]
    prefix = components["AuthorizationInput"]["properties"]["domain_prefix"]
    assert (prefix["pattern"], prefix["maxLength"]) == ("^[a-z0-9]{1,27}$", 27)
    assert components["OrderInput"]["properties"]["domain_prefix"]["pattern"] == "^[a-z0-9]{1,27}$"
    assert components["MpnValidationInput"]["properties"]["mpn_id"]["pattern"] == "^[0-9]{1,12}$"
    mpn = components["AuthorizationInput"]["properties"]["mpn_id"]
    assert {"type": "string", "maxLength": 0} in mpn["oneOf"]  # empty: the organisation's own
    assert "Direct customers may not send it" in mpn["description"]
    assert "pattern" in components["VerifyInput"]["properties"]["default_domain"]["oneOf"][0]
    order = components["OrderInput"]
    assert order["oneOf"] == [{"required": ["domain_prefix"]}, {"required": ["authorization"]}]
    assert (order["properties"]["lines"]["minItems"], order["properties"]["lines"]["maxItems"]) == (1, 50)
    accepted = components["AgreementInput"]["properties"]["accepted"]["allOf"][0]["$ref"].split("/")[-1]
    assert components[accepted]["enum"] == [True] and components[accepted]["type"] == "boolean"
    assert "US" in components["CountryEnum"]["enum"]
    path_prefix = schema["paths"]["/api/v1/domains/{prefix}/"]["get"]["parameters"][0]["schema"]
    assert path_prefix["pattern"] == "^[a-z0-9]{1,27}$"
    key = next(
        p for p in schema["paths"]["/api/v1/orders/"]["post"]["parameters"] if p["name"] == "Idempotency-Key"
    )
    assert key["schema"] == {"type": "string", "pattern": "^[!-~]{1,100}$", "minLength": 1, "maxLength": 100}


@pytest.mark.django_db
def test_creates_link_to_the_reads_that_take_their_id(schema):
    def links(path: str) -> dict:
        return {
            name: (link["operationId"], link["parameters"])
            for name, link in schema["paths"][path]["post"]["responses"]["201"]["links"].items()
        }

    assert links("/api/v1/authorizations/") == {
        "GetAuthorization": ("authorizations_retrieve", {"authorization_id": "$response.body#/id"}),
        "VerifyAuthorization": ("authorizations_verify", {"authorization_id": "$response.body#/id"}),
    }
    assert links("/api/v1/orders/") == {"GetOrder": ("orders_retrieve", {"order_id": "$response.body#/id"})}
    assert links("/api/v1/end-customers/") == {
        "GetEndCustomer": ("end_customers_retrieve", {"end_customer_id": "$response.body#/id"})
    }
    replayed = schema["paths"]["/api/v1/orders/"]["post"]["responses"]["200"]["links"]
    assert replayed["GetOrder"]["operationId"] == "orders_retrieve"


@pytest.mark.django_db
def test_docs_page_serves_swagger_ui_from_this_server(client):
    if api_docs.swagger_dist() is None:
        pytest.skip("drf-spectacular-sidecar is not installed; the fallback page is tested below")
    page = client.get("/api/docs/").content.decode()
    assert 'src="/api/docs/assets/swagger-ui-bundle.js"' in page
    assert 'src="/static/js/api-docs.js"' in page  # started from a file: no inline script (CSP)
    assert "http" not in page.split("<body>")[1]  # no CDN
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
