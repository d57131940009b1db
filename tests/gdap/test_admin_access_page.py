"""The Admin access page: resellers learn how to request their own GDAP in their Partner Center (tenant id and a
deep link), and everyone sees, read-only, the distributor's relationships with their own customers' tenants."""

from datetime import timedelta
from html import unescape

import pytest
import requests
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from csp import gdap, trust
from csp.models import GdapRequest
from tests.factories import OrderFactory, TenantAuthorizationFactory
from tests.sandbox_ids import CONTOSO_TENANT

pytestmark = pytest.mark.django_db
WINGTIP_TENANT = "33333333-3333-4333-8333-000000000002"
SUPPORT_GROUP = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"


@pytest.fixture
def helpdesk(helpdesk):
    helpdesk.security_group_id = SUPPORT_GROUP
    helpdesk.save()
    return helpdesk


def hold(organization, tenant_id: str) -> None:
    """What completing an order records (csp/trust.py); the factory's verified authorizations record it already."""
    trust.tenant_hold(
        tenant_id=tenant_id, organization_id=organization.pk, source=trust.Source.NEW_TENANT_ORDER
    )


def distributor_request(staff_user, organization, template, tenant) -> GdapRequest:
    gdap_request = gdap.gdap_request_create(
        organization_id=organization.pk,
        customer_tenant_id=tenant,
        role_template_id=template.pk,
        user_id=staff_user.pk,
    )
    return gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)


def page(client, user) -> str:
    client.force_login(user)
    answer = client.get(reverse("gdap:list"))
    assert answer.status_code == 200
    return unescape(answer.content.decode())


def test_a_reseller_gets_the_way_to_its_own_gdap_and_sees_the_distributors_read_only(
    client, owner, outsider, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    ours = distributor_request(staff_user, reseller, helpdesk, CONTOSO_TENANT)
    TenantAuthorizationFactory(
        organization=outsider.organization, verified=True, customer_tenant_id=WINGTIP_TENANT
    )
    theirs = distributor_request(staff_user, outsider.organization, helpdesk, WINGTIP_TENANT)

    text = page(client, owner)
    assert "your own Partner Center" in text and "Request admin relationship" in text
    assert f'id="tenant-{CONTOSO_TENANT}"' in text and CONTOSO_TENANT in text
    assert f"https://partner.microsoft.com/dashboard/v2/customers/{CONTOSO_TENANT}/adminrelationships" in text
    assert "assign the roles to your security groups" in text
    assert reverse("gdap:detail", args=[ours.pk]) in text and "Waiting for the customer's approval" in text
    assert reverse("gdap:detail", args=[theirs.pk]) not in text and WINGTIP_TENANT not in text
    assert (
        'name="customer_tenant_id"' not in text and 'name="role_template"' not in text
    )  # nothing to request
    with pytest.raises(NoReverseMatch):
        reverse("gdap:new")
    assert client.get("/gdap/new/").status_code == 404
    assert client.post(reverse("gdap:list"), {"customer_tenant_id": CONTOSO_TENANT}).status_code == 405
    assert list(GdapRequest.objects.values_list("pk", flat=True).order_by("pk")) == [ours.pk, theirs.pk]


def test_a_direct_customer_sees_the_distributors_relationship_with_its_tenant(
    client, direct_user, staff_user, helpdesk, sandbox
):
    OrderFactory(
        organization=direct_user.organization,
        end_customer=None,
        status="completed",
        customer_tenant_id=WINGTIP_TENANT,
    )
    hold(direct_user.organization, WINGTIP_TENANT)
    gdap_request = distributor_request(staff_user, direct_user.organization, helpdesk, WINGTIP_TENANT)
    text = page(client, direct_user)
    assert "Admin access to your tenant" in text and WINGTIP_TENANT in text
    assert "Partner relationships" in text and "partner.microsoft.com" not in text
    assert reverse("gdap:detail", args=[gdap_request.pk]) in text
    assert 'href="/gdap/"' in unescape(client.get(reverse("dashboard:home")).content.decode())  # in the menu


def test_the_detail_page_follows_the_roles_until_they_are_in_effect(
    client, owner, outsider, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    gdap_request = distributor_request(staff_user, reseller, helpdesk, CONTOSO_TENANT)
    client.force_login(owner)
    detail = unescape(client.get(reverse("gdap:detail", args=[gdap_request.pk])).content.decode())
    assert gdap_request.approval_link in detail and 'hx-trigger="every 3s"' in detail
    status_url = reverse("gdap:status", args=[gdap_request.pk])
    assert client.get(status_url, {"status": "approvalPending/"}).status_code == 204

    requests.post(f"{sandbox.url}/_sandbox/gdap/{gdap_request.relationship_id}/approve", json={}, timeout=10)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(
        last_checked_at=timezone.now() - timedelta(seconds=11)
    )
    update = client.get(status_url, {"status": "approvalPending/"})
    assert update.status_code == 200
    assert (
        'data-status="active"' in update.content.decode()
        and 'data-assignment="pending"' in update.content.decode()
    )
    assert "giving the roles to its support team" in unescape(update.content.decode())
    GdapRequest.objects.filter(pk=gdap_request.pk).update(
        last_checked_at=timezone.now() - timedelta(seconds=11)
    )
    done = unescape(client.get(status_url, {"status": "active/pending"}).content.decode())
    assert 'data-assignment="active"' in done and "has these roles in the tenant" in done
    assert "hx-trigger" not in done  # nothing left to follow

    client.force_login(outsider)
    assert client.get(reverse("gdap:detail", args=[gdap_request.pk])).status_code == 404
    assert client.get(status_url).status_code == 404


def test_staff_without_an_organisation_use_admin(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("gdap:list")).status_code == 403
