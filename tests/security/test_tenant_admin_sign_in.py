"""A tenant's administrator proves the tenant by signing in with Microsoft (OpenID Connect): the ID token's `tid`
must be the authorization's tenant. Played against the sandbox's sign-in pages over HTTP."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from csp.models import TenantAuthorization, TenantHolding
from tests.api.conftest import api_client_for

pytestmark = pytest.mark.django_db

ALPINE_TENANT = "33333333-3333-4333-8333-000000000005"


def _hidden(html: str) -> dict[str, str]:
    form = html.split("</form>")[0]
    return {
        k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    }


def microsoft_sign_in(auth_uri: str, username: str) -> dict[str, str]:
    """The administrator at the sandbox's sign-in page and MFA step; returns Microsoft's redirect parameters."""
    endpoint = auth_uri.split("?")[0]
    fields = _hidden(requests.get(auth_uri, timeout=10).text)
    mfa = requests.post(endpoint, data={**fields, "username": username, "password": "p"}, timeout=10)
    answer = requests.post(
        endpoint, data={**_hidden(mfa.text), "otc": "123456"}, allow_redirects=False, timeout=10
    )
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


@pytest.fixture
def alpine_authorization(direct_user, sandbox) -> TenantAuthorization:
    """Alpine Ski House is already the distributor's customer (through Fabrikam): the direct link proves nothing."""
    created = (
        api_client_for(direct_user)
        .post("/api/v1/authorizations/", {"domain_prefix": "alpineskihouse"}, format="json")
        .json()
    )
    authorization = TenantAuthorization.objects.get(pk=created["id"])
    assert authorization.needs_ownership_proof
    return authorization


def _start(client, authorization) -> str:
    response = client.post(reverse("checkout:authorization_sign_in", args=[authorization.pk]))
    assert response.status_code == 302
    auth_uri = response["Location"]
    query = parse_qs(urlsplit(auth_uri).query)
    assert urlsplit(auth_uri).path == "/organizations/oauth2/v2.0/authorize"
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver" + reverse("checkout:authorization_signed_in")]
    return auth_uri


def test_the_tenants_administrator_signing_in_proves_the_tenant(client, direct_user, alpine_authorization):
    client.force_login(direct_user)
    answer = microsoft_sign_in(_start(client, alpine_authorization), "admin@alpineskihouse.com")
    done = client.get(reverse("checkout:authorization_signed_in"), answer, follow=True)
    assert "The authorization is verified" in done.content.decode()
    alpine_authorization.refresh_from_db()
    assert alpine_authorization.status == "verified"
    assert alpine_authorization.ownership_proof == "tenant_admin_sign_in"
    assert alpine_authorization.customer_tenant_id == ALPINE_TENANT
    assert alpine_authorization.transitions.filter(
        microsoft_answer__contains="admin@alpineskihouse.com signed in with Microsoft"
    ).exists()
    assert TenantHolding.objects.filter(
        organization=direct_user.organization, tenant_id=ALPINE_TENANT
    ).exists()
    replay = client.get(reverse("checkout:authorization_signed_in"), answer, follow=True)
    assert "already been used" in replay.content.decode()


def test_an_administrator_of_another_tenant_proves_nothing(client, direct_user, alpine_authorization):
    client.force_login(direct_user)
    answer = microsoft_sign_in(_start(client, alpine_authorization), "admin@contoso.com")
    done = client.get(reverse("checkout:authorization_signed_in"), answer, follow=True)
    assert "belongs to another Microsoft tenant than alpineskihouse.onmicrosoft.com" in done.content.decode()
    alpine_authorization.refresh_from_db()
    assert (alpine_authorization.status, alpine_authorization.ownership_proof) == ("pending", "")
    assert not TenantHolding.objects.exists()


def test_a_forged_answer_proves_nothing(client, direct_user, alpine_authorization):
    client.force_login(direct_user)
    answer = microsoft_sign_in(_start(client, alpine_authorization), "admin@alpineskihouse.com")
    done = client.get(reverse("checkout:authorization_signed_in"), {**answer, "state": "forged"}, follow=True)
    assert "did not complete, so nothing was proved" in done.content.decode()
    alpine_authorization.refresh_from_db()
    assert alpine_authorization.status == "pending"


def test_another_organisation_cannot_start_a_sign_in_for_the_authorization(
    client, outsider, alpine_authorization
):
    client.force_login(outsider)
    assert (
        client.post(reverse("checkout:authorization_sign_in", args=[alpine_authorization.pk])).status_code
        == 404
    )


def test_the_panel_offers_the_sign_in_only_while_proof_is_needed(alpine_authorization):
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    def panel(authorization) -> str:
        context = {
            "draft": SimpleNamespace(existing_tenant=True),
            "result": SimpleNamespace(authorization=authorization, errors={}),
        }
        return render_to_string("checkout/_authorization_panel.html", context)

    sign_in = reverse("checkout:authorization_sign_in", args=[alpine_authorization.pk])
    assert sign_in in panel(alpine_authorization)
    assert "was already a customer of" in panel(alpine_authorization)
    alpine_authorization.tenant_was_customer = False
    assert sign_in not in panel(alpine_authorization)
