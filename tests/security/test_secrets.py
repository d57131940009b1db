"""Secrets and tokens never reach logs, pages, API answers or the audit trail, during a whole new-tenant order."""

import json
import logging

import pytest
from django.urls import reverse

from billing.models import Order
from billing.sealing import unseal
from csp.connection import reset_clients
from csp.models import PartnerCenterCall, TokenCache
from tests.checkout.conftest import AGREEMENT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "cs-7f3a9c11-never-log-this-secret"
REFRESH_TOKEN = "rt-0b8e44d2-never-log-this-refresh-token"


def test_no_secret_or_token_leaks_during_a_new_tenant_order(
    client, owner, owner_draft, sandbox, eager_worker, settings, caplog, django_capture_on_commit_callbacks
):
    settings.PARTNER_CENTER_CLIENT_SECRET = CLIENT_SECRET
    settings.PARTNER_CENTER_REFRESH_TOKEN = REFRESH_TOKEN
    settings.DEBUG = False
    reset_clients()
    caplog.set_level(logging.DEBUG)
    pages: list[str] = []

    def keep(response):
        pages.append(response.content.decode(errors="replace") + json.dumps(dict(response.headers)))
        return response

    keep(client.post(reverse("accounts:login"), {"username": owner.email, "password": PASSWORD}))
    keep(client.get(reverse("checkout:service_details")))
    keep(
        client.post(
            reverse("checkout:service_details_check"),
            {"domain_prefix": "secretsco", "mpn_id": "1234567", "check": "domain"},
            HTTP_HX_REQUEST="true",
        )
    )
    posted = client.post(
        reverse("checkout:service_details"), {"domain_prefix": "secretsco", "mpn_id": "1234567"}
    )
    assert posted["Location"] == reverse("checkout:review")
    keep(client.get(reverse("checkout:review")))
    with django_capture_on_commit_callbacks(execute=True):
        keep(client.post(reverse("checkout:review"), AGREEMENT))
    order = Order.objects.get()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    admin_password = unseal(order.admin_password)
    assert admin_password and admin_password not in order.admin_password  # sealed at rest

    first = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert admin_password in first  # shown to the buyer once, by design
    keep(client.get(reverse("orders:detail", args=[order.pk])))
    keep(client.get(reverse("orders:progress", args=[order.pk]), HTTP_HX_REQUEST="true"))
    keep(client.get(reverse("orders:list")))
    keep(client.get(reverse("dashboard:home")))
    keep(client.get(reverse("api:order", args=[order.pk])))

    access_tokens = list(sandbox.state.tokens)
    assert access_tokens, "the client signed in with the sandbox"
    secrets = {
        "client secret": CLIENT_SECRET,
        "refresh token": REFRESH_TOKEN,
        "user password": PASSWORD,
        "new tenant admin password": admin_password,
        **{f"access token {n}": token for n, token in enumerate(access_tokens)},
    }
    audit = json.dumps(list(PartnerCenterCall.objects.values()), default=str)
    assert PartnerCenterCall.objects.exists()
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for what, secret in secrets.items():
        assert secret not in logs, f"{what} in the logs"
        assert secret not in audit, f"{what} in the Partner Center audit trail"
        for page in pages:
            assert secret not in page, f"{what} in a page or API answer"
    cached = "".join(TokenCache.objects.values_list("data", flat=True))
    assert CLIENT_SECRET not in cached


def test_admin_shows_whether_secrets_are_set_never_their_values(client, staff_user, settings, cloud_settings):
    settings.PARTNER_CENTER_CLIENT_SECRET = CLIENT_SECRET
    settings.PARTNER_CENTER_REFRESH_TOKEN = REFRESH_TOKEN
    client.force_login(staff_user)
    url = reverse("admin:csp_cloudservicessettings_change", args=[cloud_settings.pk])
    page = client.get(url).content.decode()
    assert CLIENT_SECRET not in page and REFRESH_TOKEN not in page
