"""GDAP: create, lock, email the approval link, follow to active; only for the reseller's own tenants."""

from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from csp import gdap
from csp.errors import InvalidInput, NotAllowed
from csp.models import GdapRequest, WebhookDelivery
from tests.factories import OrderFactory
from tests.sandbox_ids import CONTOSO_TENANT, WINGTIP_TENANT

pytestmark = pytest.mark.django_db


def create(owner, template, tenant=CONTOSO_TENANT, **extra):
    return gdap.gdap_request_create(
        organization_id=owner.organization_id,
        user_id=owner.pk,
        customer_tenant_id=tenant,
        role_template_id=template.pk,
        **extra,
    )


def test_least_privilege_templates_are_seeded():
    templates = list(gdap.gdap_role_templates())
    assert [t.name for t in templates] == ["Helpdesk (least privilege)", "User administration"]
    assert templates[0].is_default
    assert templates[0].role_definition_ids == [
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "f023fd81-a637-4b56-95fd-791ac0226033",
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    ]
    assert not any(t.includes_global_administrator for t in templates)


def test_request_is_created_locked_emailed_and_followed_to_active(
    sandbox, owner, verified_contoso, helpdesk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        gdap_request = create(owner, helpdesk)

    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    assert gdap_request.duration_days == 730
    assert len(gdap_request.display_name) <= 50
    assert gdap_request.relationship_id in gdap_request.approval_link
    assert mail.outbox[0].to == [owner.email]
    assert gdap_request.approval_link in mail.outbox[0].body
    at_microsoft = requests.get(
        f"{sandbox.url}/_sandbox/gdap/{gdap_request.relationship_id}", timeout=10
    ).json()
    assert at_microsoft["status"] == "approvalPending"
    assert at_microsoft["duration"] == "P730D"
    assert at_microsoft["autoExtendDuration"] == "PT0S"

    requests.post(f"{sandbox.url}/_sandbox/gdap/{gdap_request.relationship_id}/approve", json={}, timeout=10)
    with django_capture_on_commit_callbacks(execute=True):
        refreshed = gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk)

    assert refreshed.status == GdapRequest.Status.ACTIVE
    assert refreshed.activated_at is not None
    assert refreshed.next_check_at is None
    assert "is active" in mail.outbox[-1].subject


def test_gdap_approved_webhook_refreshes_the_request(
    client,
    sandbox,
    owner,
    verified_contoso,
    helpdesk,
    signed_delivery,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    gdap_request = create(owner, helpdesk)
    requests.post(f"{sandbox.url}/_sandbox/gdap/{gdap_request.relationship_id}/approve", json={}, timeout=10)
    body, headers = signed_delivery(
        "granular-admin-relationship-approved",
        f"{sandbox.url}/v1.0/tenantRelationships/delegatedAdminRelationships/{gdap_request.relationship_id}",
        gdap_request.relationship_id,
    )
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("csp:partner-center-webhook"), data=body, content_type="application/json", **extra
        )
    assert answer.status_code == 200
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PROCESSED
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.ACTIVE


def test_completed_order_tenant_is_allowed(sandbox, owner, reseller, helpdesk):
    OrderFactory(organization=reseller, status="completed", customer_tenant_id=WINGTIP_TENANT)
    assert create(owner, helpdesk, tenant=WINGTIP_TENANT, duration_days=30).duration_days == 30


def test_another_resellers_tenant_is_refused(sandbox, outsider, verified_contoso, helpdesk):
    with pytest.raises(NotAllowed):
        create(outsider, helpdesk)
    assert not GdapRequest.objects.exists()


@pytest.mark.parametrize("days", [0, 731])
def test_duration_outside_microsofts_limits_is_refused(sandbox, owner, verified_contoso, helpdesk, days):
    with pytest.raises(InvalidInput) as error:
        create(owner, helpdesk, duration_days=days)
    assert error.value.field == "duration_days"


def test_no_auto_extend_with_global_administrator(sandbox, owner, verified_contoso, global_admin, helpdesk):
    with pytest.raises(InvalidInput) as error:
        create(owner, global_admin, auto_extend=True)
    assert error.value.field == "auto_extend"
    assert create(owner, helpdesk, auto_extend=True).auto_extend


def test_display_names_are_unique(sandbox, owner, verified_contoso, helpdesk):
    names = {create(owner, helpdesk).display_name for _ in range(3)}
    assert len(names) == 3


def test_request_get_answers_404_to_another_organisation(
    sandbox, owner, outsider, verified_contoso, helpdesk
):
    from django.http import Http404

    gdap_request = create(owner, helpdesk)
    assert gdap.gdap_request_get(owner.organization_id, gdap_request.pk) == gdap_request
    with pytest.raises(Http404):
        gdap.gdap_request_get(outsider.organization_id, gdap_request.pk)


def test_pages_request_and_follow_status(
    client, sandbox, owner, outsider, verified_contoso, helpdesk, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    form = client.get(reverse("gdap:new"))
    assert form.status_code == 200
    assert CONTOSO_TENANT in form.content.decode()
    answer = client.post(
        reverse("gdap:new"),
        {"customer_tenant_id": CONTOSO_TENANT, "role_template": helpdesk.pk, "duration_days": 365},
    )
    gdap_request = GdapRequest.objects.get()
    assert answer.status_code == 302
    detail = client.get(answer.url)
    assert gdap_request.approval_link in detail.content.decode()
    assert 'hx-trigger="every 3s"' in detail.content.decode()
    status_url = reverse("gdap:status", args=[gdap_request.pk])
    assert client.get(status_url, {"status": "approvalPending"}).status_code == 204

    # the customer approves: the open page shows it at its next poll once 10 seconds have passed since the last
    # read, without waiting for the worker's schedule (which the page's reads leave alone)
    requests.post(f"{sandbox.url}/_sandbox/gdap/{gdap_request.relationship_id}/approve", json={}, timeout=10)
    assert (
        client.get(status_url, {"status": "approvalPending"}).status_code == 204
    )  # read just now: not again
    scheduled = GdapRequest.objects.values_list("next_check_at", "check_attempts").get(pk=gdap_request.pk)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(
        last_checked_at=timezone.now() - timedelta(seconds=11)
    )
    with django_capture_on_commit_callbacks(execute=True):
        update = client.get(status_url, {"status": "approvalPending"})
    assert update.status_code == 200 and 'data-status="active"' in update.content.decode()
    gdap_request.refresh_from_db()
    assert gdap_request.status == "active" and gdap_request.next_check_at is None
    assert gdap_request.check_attempts == scheduled[1]

    client.force_login(outsider)
    assert client.get(reverse("gdap:detail", args=[gdap_request.pk])).status_code == 404
