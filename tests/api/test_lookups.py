"""Domain availability and MPN validation against the sandbox, with the exact messages and per-user throttling."""

import pytest

from csp.mpn_ids import MPN_OUTSIDE_NETWORK_MESSAGE
from tests.api.conftest import api_client_for, assert_error, sandbox_faults
from tests.factories import ResellerMpnIdFactory
from tests.sandbox_ids import FABRIKAM_MPN, NO_AGREEMENT_MPN, OUTSIDE_MPN
from tests.shared import lookup_rate

pytestmark = pytest.mark.django_db
OUTSIDE_WARNING = MPN_OUTSIDE_NETWORK_MESSAGE.format(distributor="Northwind Distribution")


@pytest.fixture
def tiny_lookup_rate(settings):
    lookup_rate(settings, "2/min")


def test_a_free_prefix_is_available(owner_api, sandbox):
    response = owner_api.get("/api/v1/domains/fabrikamnew42/")
    assert response.status_code == 200
    assert response.json() == {
        "domain_prefix": "fabrikamnew42",
        "domain": "fabrikamnew42.onmicrosoft.com",
        "available": True,
        "message": "fabrikamnew42.onmicrosoft.com is available.",
    }


def test_a_taken_prefix_says_so_in_the_resellers_words(owner_api, sandbox):
    body = owner_api.get("/api/v1/domains/contoso/").json()
    assert body["available"] is False
    assert "already registered in Microsoft Portal by another tenant" in body["message"]
    assert "My customer is already using Office 365 service and he/she owns this domain" in body["message"]


def test_a_direct_customer_gets_its_own_wording(direct_user, sandbox):
    body = api_client_for(direct_user).get("/api/v1/domains/contoso/").json()
    assert "I am already using Office 365 service and I own this domain" in body["message"]


@pytest.mark.parametrize(
    "prefix", ["con-toso", "contoso.com", "a" * 28, "café", "two words", "a/b", "%00", "con%0Atoso"]
)
def test_a_malformed_prefix_answers_400_with_the_rule(owner_api, sandbox, prefix):
    body = assert_error(owner_api.get(f"/api/v1/domains/{prefix}/"), 400, "invalid")
    assert "letters (a-z) and digits (0-9) only" in body["message"]
    assert list(body["fields"]) == ["domain_prefix"]


def test_domain_check_answers_503_when_partner_center_is_down(owner_api, sandbox):
    sandbox_faults(sandbox, {"fail": {"count": 10, "status": 501}})
    body = assert_error(owner_api.get("/api/v1/domains/fabrikamnew42/"), 503, "partner_center_unavailable")
    assert "try again" in body["message"]


def test_an_mpn_id_in_the_network_is_valid(owner_api, sandbox):
    response = owner_api.post("/api/v1/mpn-validations/", {"mpn_id": FABRIKAM_MPN}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["mpn_id"] == FABRIKAM_MPN
    assert body["reseller_name"] == "Fabrikam IT Services"
    assert "Northwind Distribution's network" in body["message"]


@pytest.mark.parametrize("mpn_id", [OUTSIDE_MPN, NO_AGREEMENT_MPN, "9999999"])
def test_an_mpn_id_outside_the_network_gets_the_exact_warning(owner_api, reseller, sandbox, mpn_id):
    ResellerMpnIdFactory(organization=reseller, mpn_id=mpn_id)
    body = owner_api.post("/api/v1/mpn-validations/", {"mpn_id": mpn_id}, format="json").json()
    assert body["valid"] is False
    assert body["message"] == OUTSIDE_WARNING


@pytest.mark.parametrize("mpn_id", ["12a4567", "", " ", "１２３"])
def test_an_mpn_id_that_is_not_digits_answers_400(owner_api, sandbox, mpn_id):
    body = assert_error(
        owner_api.post("/api/v1/mpn-validations/", {"mpn_id": mpn_id}, format="json"), 400, "invalid"
    )
    assert list(body["fields"]) == ["mpn_id"]


def test_mpn_validation_requires_the_field(owner_api):
    body = assert_error(owner_api.post("/api/v1/mpn-validations/", {}, format="json"), 400, "invalid")
    assert body["fields"] == {"mpn_id": ["This field is required."]}


def test_lookups_are_throttled_per_user_with_retry_after(owner_api, teammate, sandbox, tiny_lookup_rate):
    assert owner_api.get("/api/v1/domains/contoso/").status_code == 200
    assert (
        owner_api.post("/api/v1/mpn-validations/", {"mpn_id": FABRIKAM_MPN}, format="json").status_code == 200
    )
    response = owner_api.get("/api/v1/domains/contoso/")
    body = assert_error(response, 429, "throttled")
    assert "throttled" in body["message"].lower()
    assert 0 < int(response["Retry-After"]) <= 60
    assert_error(owner_api.post("/api/v1/mpn-validations/", {"mpn_id": "1"}, format="json"), 429, "throttled")
    # Per user: a teammate of the same organisation has its own allowance.
    assert api_client_for(teammate).get("/api/v1/domains/contoso/").status_code == 200
