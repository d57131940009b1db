"""Staff request the distributor's GDAP in admin; the customer approves on the (sandbox) admin portal; the roles are
given to the template's security group and followed to active, with the assignment status shown in admin."""

import io
import re
from datetime import timedelta
from html import unescape

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from csp import gdap, tasks
from csp.models import GdapRequest, GdapRoleTemplate
from tests.sandbox_ids import CONTOSO_TENANT

pytestmark = pytest.mark.django_db
SUPPORT_GROUP = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"
ADD = reverse("admin:csp_gdaprequest_add")
CHANGELIST = reverse("admin:csp_gdaprequest_changelist")


@pytest.fixture
def helpdesk(helpdesk):
    helpdesk.security_group_id = SUPPORT_GROUP
    helpdesk.security_group_name = "Northwind support"
    helpdesk.save()
    return helpdesk


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def graph_calls(server) -> list[str]:
    log = requests.get(f"{server.url}/_sandbox/requests", timeout=10).json()["requests"]
    return [f"{r['method']} {r['target']}" for r in log if r["target"].startswith("/v1.0/")]


def form(reseller, template, **overrides) -> dict:
    return {
        "organization": reseller.pk,
        "customer_tenant_id": CONTOSO_TENANT,
        "role_template": template.pk,
        "duration_days": "365",
        "reason": "Support case 4711 for Fabrikam's customer",
        **overrides,
    }


def refresh_in_admin(staff, gdap_request) -> str:
    answer = staff.post(
        CHANGELIST, {"action": "refresh_status", "_selected_action": [gdap_request.pk]}, follow=True
    )
    assert answer.status_code == 200
    return unescape(answer.content.decode())


def test_staff_request_customer_approval_on_the_portal_assignment_created_then_active(
    staff,
    staff_user,
    reseller,
    verified_contoso,
    helpdesk,
    sandbox,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    page = staff.get(ADD)
    assert page.status_code == 200
    text = page.content.decode()
    for name in (
        "organization",
        "customer_tenant_id",
        "role_template",
        "duration_days",
        "auto_extend",
        "reason",
    ):
        assert f'name="{name}"' in text

    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post(ADD, form(reseller, helpdesk))
    gdap_request = GdapRequest.objects.get()
    assert answer.status_code == 302 and answer.url == reverse(
        "admin:csp_gdaprequest_change", args=[gdap_request.pk]
    )
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    assert gdap_request.requested_by == staff_user and gdap_request.organization == reseller
    assert gdap_request.duration_days == 365 and gdap_request.reason.startswith("Support case 4711")
    detail = unescape(staff.get(answer.url).content.decode())
    assert gdap_request.approval_link in detail and "Waiting for the customer" in detail

    # A Global Administrator of Contoso opens the approval page on the (sandbox) admin portal and approves.
    with requests.Session() as browser:
        portal = browser.get(
            f"{sandbox.url}/AdminPortal/granularAdminRelationships/{gdap_request.relationship_id}"
        )
        assert portal.status_code == 200 and ">Approve</button>" in portal.text
        action = re.search(r'<form method="post" action="([^"]+)"', portal.text).group(1)
        approved = browser.post(f"{sandbox.url}{action}")
        assert approved.status_code == 200 and "is now active" in unescape(approved.text)

    with django_capture_on_commit_callbacks(execute=True):
        message = refresh_in_admin(staff, gdap_request)
    assert "Active, access assignment pending" in message
    gdap_request.refresh_from_db()
    assert gdap_request.access_assignment_id and gdap_request.roles_active_at is None
    with django_capture_on_commit_callbacks(execute=True):
        message = refresh_in_admin(staff, gdap_request)
    assert "Active, access assignment active" in message
    gdap_request.refresh_from_db()
    assert gdap_request.access_assignment_status == "active" and gdap_request.roles_active_at is not None
    [assignment] = sandbox.state.gdap[gdap_request.relationship_id]["_assignments"]
    assert assignment["accessContainer"]["accessContainerId"] == SUPPORT_GROUP
    listed = unescape(staff.get(CHANGELIST).content.decode())
    assert gdap_request.display_name in listed and "Active" in listed


def test_another_organisations_tenant_is_refused_at_the_field_and_microsoft_receives_nothing(
    staff, reseller, outsider, verified_contoso, helpdesk, sandbox, eager_worker
):
    answer = staff.post(ADD, form(outsider.organization, helpdesk, reason="Adatum asks for Contoso"))
    assert answer.status_code == 200
    text = unescape(answer.content.decode())
    assert "This organisation does not hold that tenant" in text
    assert "Adatum asks for Contoso" in text  # nothing the staff member typed is lost
    assert not GdapRequest.objects.exists()
    assert graph_calls(sandbox) == []


def test_a_second_open_request_and_a_template_without_a_group_are_refused_in_words(
    staff, reseller, verified_contoso, helpdesk, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(ADD, form(reseller, helpdesk)).status_code == 302
    again = unescape(staff.post(ADD, form(reseller, helpdesk)).content.decode())
    assert "already open for this tenant" in again
    no_group = GdapRoleTemplate.objects.get(name="User administration")
    refused = unescape(staff.post(ADD, form(reseller, no_group)).content.decode())
    assert "has no security group" in refused
    assert GdapRequest.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"customer_tenant_id": "contoso.com"},
        {"customer_tenant_id": "<script>alert(1)</script>"},
        {"customer_tenant_id": "x" * 10_000},
        {"organization": "999999"},
        {"organization": "' OR 1=1 --"},
        {"role_template": "abc"},
        {"duration_days": "0"},
        {"duration_days": "731"},
        {"duration_days": "1e9"},
        {"reason": "x" * 5000},
    ],
)
def test_hostile_input_gets_a_message_never_a_500(
    staff, reseller, verified_contoso, helpdesk, sandbox, overrides
):
    answer = staff.post(ADD, form(reseller, helpdesk, **overrides))
    assert answer.status_code == 200
    assert 'class="errorlist' in answer.content.decode() or "errornote" in answer.content.decode()
    assert not GdapRequest.objects.exists()
    assert graph_calls(sandbox) == []


def test_auto_extend_with_global_administrator_is_refused(
    staff, reseller, verified_contoso, global_admin, sandbox
):
    global_admin.security_group_id = SUPPORT_GROUP
    global_admin.save()
    answer = staff.post(ADD, form(reseller, global_admin, auto_extend="on"))
    assert "does not allow auto-extension" in unescape(answer.content.decode())
    assert not GdapRequest.objects.exists()


def test_buyers_cannot_reach_the_admin_request_form(client, owner):
    client.force_login(owner)
    answer = client.get(ADD)
    assert answer.status_code == 302 and "/login/" in answer.url


def test_role_template_security_group_must_be_a_group_id(staff, helpdesk):
    change = reverse("admin:csp_gdaproletemplate_change", args=[helpdesk.pk])
    data = {
        "name": helpdesk.name,
        "description": "",
        "roles": '[{"name": "Directory Readers", "role_definition_id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}]',
        "security_group_id": "Northwind support",
        "security_group_name": "",
        "is_active": "on",
    }
    refused = staff.post(change, data)
    assert (
        refused.status_code == 200
        and "object id of one of your Entra security groups" in refused.content.decode()
    )
    saved = staff.post(change, {**data, "security_group_id": SUPPORT_GROUP.upper()})
    assert saved.status_code == 302
    helpdesk.refresh_from_db()
    assert helpdesk.security_group_id == SUPPORT_GROUP


def test_seed_demo_maps_the_default_template_to_a_demo_group_once(helpdesk):
    from django.core.management import call_command

    GdapRoleTemplate.objects.filter(pk=helpdesk.pk).update(security_group_id="", security_group_name="")
    call_command("seed_demo", stdout=io.StringIO())
    helpdesk.refresh_from_db()
    assert helpdesk.security_group_id and helpdesk.security_group_name.startswith("Demo support team")
    GdapRoleTemplate.objects.filter(pk=helpdesk.pk).update(security_group_id=SUPPORT_GROUP.upper())
    call_command("seed_demo", stdout=io.StringIO())
    helpdesk.refresh_from_db()
    assert helpdesk.security_group_id == SUPPORT_GROUP.upper()  # a group staff set is never replaced


def test_a_broker_outage_loses_nothing_the_follow_pass_sends_the_request(
    staff, reseller, verified_contoso, helpdesk, sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.gdap_request_submit, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert staff.post(ADD, form(reseller, helpdesk)).status_code == 302
    assert len(queued) == 1  # the admin queued the submit, and the broker refused it
    gdap_request = GdapRequest.objects.get()
    assert graph_calls(sandbox) == []
    assert gdap.gdap_requests_follow(now=timezone.now() + timedelta(minutes=6)) == 1
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING and len(sandbox.state.gdap) == 1
