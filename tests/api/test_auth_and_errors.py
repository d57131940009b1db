"""Sign-in, authentication and the one error body for everything that can go wrong."""

import pytest

from tests.api.conftest import api_client_for, assert_error
from tests.factories import PASSWORD
from tests.sandbox_ids import FABRIKAM_MPN

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/v1/products/"),
    ("get", "/api/v1/end-customers/"),
    ("post", "/api/v1/end-customers/"),
    ("get", "/api/v1/end-customers/1/"),
    ("get", "/api/v1/domains/contoso/"),
    ("post", "/api/v1/mpn-validations/"),
    ("post", "/api/v1/authorizations/"),
    ("get", "/api/v1/authorizations/1/"),
    ("post", "/api/v1/authorizations/1/verify/"),
    ("post", "/api/v1/orders/"),
    ("get", "/api/v1/orders/1/"),
]


def test_token_is_issued_for_email_and_password_and_authenticates(owner):
    client = api_client_for(None)
    response = client.post(
        "/api/v1/auth/token/", {"username": "Owner@Fabrikam.example", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    again = client.post("/api/v1/auth/token/", {"username": owner.email, "password": PASSWORD}, format="json")
    assert again.json()["token"] != token  # signing in again hands out a new secret, never the same one
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/products/").status_code == 200


def test_token_refuses_a_wrong_password_and_an_inactive_user(owner, teammate):
    client = api_client_for(None)
    response = client.post(
        "/api/v1/auth/token/", {"username": owner.email, "password": "nope"}, format="json"
    )
    assert_error(response, 400, "invalid_credentials")
    teammate.is_active = False
    teammate.save()
    response = client.post(
        "/api/v1/auth/token/", {"username": teammate.email, "password": PASSWORD}, format="json"
    )
    assert_error(response, 400, "invalid_credentials")


def test_token_with_missing_fields_names_them():
    response = api_client_for(None).post("/api/v1/auth/token/", {"username": "x@example.com"}, format="json")
    body = assert_error(response, 400, "invalid")
    assert body["fields"] == {"password": ["This field is required."]}
    assert body["message"] == "password: This field is required."


def test_token_attempts_are_throttled_per_address_and_email(owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "2/min"},
    }
    client = api_client_for(None)
    for _ in range(2):
        client.post("/api/v1/auth/token/", {"username": owner.email, "password": "guess"}, format="json")
    response = client.post(
        "/api/v1/auth/token/", {"username": owner.email, "password": PASSWORD}, format="json"
    )
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_answers_401_with_the_error_body_without_credentials(method, path):
    response = getattr(api_client_for(None), method)(path, {}, format="json")
    body = assert_error(response, 401, "not_authenticated")
    assert body["message"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_answers_401():
    client = api_client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(client.get("/api/v1/products/"), 401, "not_authenticated")


def test_session_authentication_works_too(client, owner):
    client.force_login(owner)
    assert client.get("/api/v1/products/").status_code == 200


def test_wrong_method_answers_405_with_the_error_body(owner_api):
    response = owner_api.delete("/api/v1/products/")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_unknown_api_path_answers_404_json(owner_api):
    assert_error(owner_api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error(owner_api.get("/api/v1/orders/abc/"), 404, "not_found")


def test_malformed_json_is_invalid_input(owner_api):
    response = owner_api.post("/api/v1/mpn-validations/", "{not json", content_type="application/json")
    assert_error(response, 400, "invalid")


def test_form_encoded_bodies_are_refused_with_415(owner_api):
    response = owner_api.post("/api/v1/mpn-validations/", {"mpn_id": FABRIKAM_MPN})
    assert_error(response, 415, "unsupported_media_type")


def test_staff_without_organisation_is_forbidden_on_organisation_endpoints(staff_user):
    client = api_client_for(staff_user)
    body = assert_error(client.get("/api/v1/orders/1/"), 403, "forbidden")
    assert "reseller and direct-customer accounts" in body["message"]


def test_only_json_is_offered(owner_api):
    assert_error(owner_api.get("/api/v1/products/", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_an_unexpected_failure_still_answers_the_error_body(owner_api, monkeypatch):
    from storefront.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.Product.objects, "filter", broken)
    owner_api.raise_request_exception = False
    body = assert_error(owner_api.get("/api/v1/products/"), 500, "server_error")
    assert "boom" not in body["message"]
