"""GDAP is the distributor's: staff request it for a tenant the organisation holds; the worker creates and locks it,
follows it to active, then gives its roles to the distributor's security group and follows that to active."""

from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from common.errors import InvalidInput, NotAllowed
from csp import gdap, tasks, trust
from csp.errors import GdapRequestOpen
from csp.models import GdapRequest, WebhookDelivery
from csp.partner_center.client import GLOBAL_ADMINISTRATOR_ROLE_ID
from tests.factories import DirectCustomerFactory, OrderFactory, TenantAuthorizationFactory
from tests.sandbox_ids import CONTOSO_TENANT, WINGTIP_TENANT

pytestmark = pytest.mark.django_db
SUPPORT_GROUP = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"
GRAPH = "/v1.0/tenantRelationships/delegatedAdminRelationships"


@pytest.fixture
def helpdesk(helpdesk):
    """The seeded least-privilege template, mapped to the distributor's support security group."""
    helpdesk.security_group_id = SUPPORT_GROUP
    helpdesk.security_group_name = "Northwind support"
    helpdesk.save()
    return helpdesk


def hold(organization, tenant_id: str) -> None:
    """What completing an order records (csp/trust.py); the factory's verified authorizations record it already."""
    trust.tenant_hold(
        tenant_id=tenant_id, organization_id=organization.pk, source=trust.Source.NEW_TENANT_ORDER
    )


@pytest.fixture
def global_admin(global_admin):
    global_admin.security_group_id = SUPPORT_GROUP
    global_admin.save()
    return global_admin


def create(staff_user, organization, template, tenant=CONTOSO_TENANT, **extra):
    return gdap.gdap_request_create(
        organization_id=organization.pk,
        user_id=staff_user.pk,
        customer_tenant_id=tenant,
        role_template_id=template.pk,
        **extra,
    )


def graph_calls(server) -> list[str]:
    """What Microsoft Graph received, as 'METHOD target'."""
    log = requests.get(f"{server.url}/_sandbox/requests", timeout=10).json()["requests"]
    return [f"{r['method']} {r['target']}" for r in log if r["target"].startswith("/v1.0/")]


def approve(server, relationship_id: str) -> None:
    requests.post(
        f"{server.url}/_sandbox/gdap/{relationship_id}/approve", json={}, timeout=10
    ).raise_for_status()


def at_microsoft(server, relationship_id: str) -> dict:
    return requests.get(f"{server.url}/_sandbox/gdap/{relationship_id}", timeout=10).json()


def test_least_privilege_templates_are_seeded_without_global_administrator():
    templates = list(gdap.gdap_role_templates())
    assert [t.name for t in templates] == ["Helpdesk (least privilege)", "User administration"]
    assert templates[0].is_default
    assert templates[0].role_definition_ids == [
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "f023fd81-a637-4b56-95fd-791ac0226033",
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    ]
    assert all(gdap.auto_extend_allowed(t.role_definition_ids) for t in templates)
    assert not gdap.auto_extend_allowed([GLOBAL_ADMINISTRATOR_ROLE_ID.upper()])


def test_staff_request_is_created_locked_approved_and_its_roles_given_to_the_security_group(
    sandbox,
    staff_user,
    reseller,
    verified_contoso,
    helpdesk,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    gdap_request = create(staff_user, reseller, helpdesk, reason="Support case 4711")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.gdap_request_submit.delay(gdap_request.pk)  # what admin queues after commit
    gdap_request.refresh_from_db()

    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    assert gdap_request.organization == reseller and gdap_request.requested_by == staff_user
    assert gdap_request.security_group_id == SUPPORT_GROUP and gdap_request.reason == "Support case 4711"
    assert gdap_request.relationship_id in gdap_request.approval_link
    assert gdap_request.access_assignment_status == ""
    assert mail.outbox[0].to == [staff_user.email] and gdap_request.approval_link in mail.outbox[0].body
    relationship = at_microsoft(sandbox, gdap_request.relationship_id)
    assert relationship["status"] == "approvalPending"
    assert relationship["customer"] == {"tenantId": CONTOSO_TENANT, "displayName": "Contoso Ltd"}
    assert (relationship["duration"], relationship["autoExtendDuration"]) == ("P730D", "PT0S")
    assert graph_calls(sandbox) == [f"POST {GRAPH}", f"POST {GRAPH}/{gdap_request.relationship_id}/requests"]

    approve(sandbox, gdap_request.relationship_id)
    with django_capture_on_commit_callbacks(execute=True):
        refreshed = gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk)
    # Active at Microsoft, and the assignment created at once: pending, so nobody has the roles yet.
    assert refreshed.status == GdapRequest.Status.ACTIVE and refreshed.activated_at is not None
    assert refreshed.access_assignment_status == "pending" and refreshed.access_assignment_id
    assert refreshed.roles_active_at is None and refreshed.next_check_at is not None
    sent = [c for c in graph_calls(sandbox) if c.startswith("POST") and c.endswith("/accessAssignments")]
    assert len(sent) == 1
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        followed = gdap.gdap_requests_follow(now=timezone.now() + timedelta(hours=1))
    assert followed == 1
    gdap_request.refresh_from_db()
    assert gdap_request.access_assignment_status == "active" and gdap_request.roles_active_at is not None
    assert gdap_request.next_check_at is None
    assert "is active" in mail.outbox[-1].subject and "Northwind support" in mail.outbox[-1].body
    stored = sandbox.state.gdap[gdap_request.relationship_id]["_assignments"][0]
    assert stored["accessContainer"] == {
        "accessContainerId": SUPPORT_GROUP,
        "accessContainerType": "securityGroup",
    }
    assert {r["roleDefinitionId"] for r in stored["accessDetails"]["unifiedRoles"]} == set(
        helpdesk.role_definition_ids
    )
    # Nothing left to follow.
    assert gdap.gdap_requests_follow(now=timezone.now() + timedelta(days=1)) == 0


def test_a_retried_create_finds_the_relationship_by_its_display_name_and_creates_nothing_twice(
    sandbox, staff_user, reseller, verified_contoso, helpdesk
):
    gdap_request = create(staff_user, reseller, helpdesk)  # on_commit never ran: nothing sent yet
    assert graph_calls(sandbox) == []
    # The first attempt reached Graph, but its answer was lost (a timeout): Graph has it, we do not.
    GdapRequest.objects.filter(pk=gdap_request.pk).update(create_sent_at=timezone.now())
    from csp.connection import partner_center

    first = partner_center().create_gdap_relationship(
        display_name=gdap_request.display_name,
        customer_tenant_id=CONTOSO_TENANT,
        customer_name="Contoso Ltd",
        role_definition_ids=helpdesk.role_definition_ids,
        duration_days=730,
        auto_extend=False,
        request_id=gdap_request.request_id,
    )
    before = len(graph_calls(sandbox))

    submitted = gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)

    assert submitted.relationship_id == first.id
    assert submitted.status == GdapRequest.Status.APPROVAL_PENDING
    calls = graph_calls(sandbox)[before:]
    assert calls[0] == f"GET {GRAPH}?$filter=displayName%20eq%20%27{gdap_request.display_name}%27"
    assert calls[1:] == [f"POST {GRAPH}/{first.id}/requests"]
    assert len(sandbox.state.gdap) == 1


def test_a_retried_create_that_never_reached_graph_creates_once(
    sandbox, staff_user, reseller, verified_contoso, helpdesk
):
    gdap_request = create(staff_user, reseller, helpdesk)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(create_sent_at=timezone.now())
    submitted = gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)
    assert submitted.status == GdapRequest.Status.APPROVAL_PENDING
    calls = graph_calls(sandbox)
    assert [c.split("?")[0] for c in calls] == [
        f"GET {GRAPH}",
        f"POST {GRAPH}",
        f"POST {GRAPH}/{submitted.relationship_id}/requests",
    ]
    assert len(sandbox.state.gdap) == 1


def test_a_retried_access_assignment_is_found_not_created_again(
    sandbox, staff_user, reseller, verified_contoso, helpdesk
):
    gdap_request = create(staff_user, reseller, helpdesk)
    gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)
    gdap_request.refresh_from_db()
    approve(sandbox, gdap_request.relationship_id)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(
        status=GdapRequest.Status.ACTIVE, access_assignment_sent_at=timezone.now()
    )
    from csp.connection import partner_center

    lost = partner_center().create_gdap_access_assignment(
        gdap_request.relationship_id,
        security_group_id=SUPPORT_GROUP,
        role_definition_ids=helpdesk.role_definition_ids,
        request_id="lost-answer",
    )
    followed = gdap.gdap_access_assignment_follow(gdap_request_id=gdap_request.pk)
    assert followed.access_assignment_id == lost.id
    assert followed.access_assignment_status == "active"  # read back after Microsoft applied it
    assert len(sandbox.state.gdap[gdap_request.relationship_id]["_assignments"]) == 1


def test_microsoft_down_keeps_the_request_for_a_later_attempt_then_it_goes_through(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, control
):
    gdap_request = create(staff_user, reseller, helpdesk)
    control("faults", {"fail": {"count": 50, "status": 503}})
    failed = gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)
    assert failed.status == GdapRequest.Status.REQUESTED
    assert "503" in failed.last_error and failed.next_check_at > timezone.now()
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10).raise_for_status()

    assert gdap.gdap_requests_follow(now=timezone.now() + timedelta(hours=1)) == 1
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    assert len(sandbox.state.gdap) == 1  # the retry looked first, then created once


def test_a_permanent_refusal_fails_the_request_and_stops_following_it(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, control
):
    gdap_request = create(staff_user, reseller, helpdesk)
    control("faults", {"fail": {"count": 1, "status": 400}})
    failed = gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)
    assert failed.status == GdapRequest.Status.FAILED and failed.next_check_at is None
    assert "400" in failed.last_error


def test_a_refused_access_assignment_is_shown_as_an_error(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, control
):
    gdap_request = gdap.gdap_request_submit(gdap_request_id=create(staff_user, reseller, helpdesk).pk)
    approve(sandbox, gdap_request.relationship_id)
    control("faults", {"fail": {"count": 1, "status": 403}, "path_contains": "/accessAssignments"})
    refreshed = gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk)
    assert refreshed.status == GdapRequest.Status.ACTIVE
    assert refreshed.access_assignment_status == "error" and "403" in refreshed.last_error
    assert refreshed.roles_active_at is None and refreshed.next_check_at is None


def test_approval_webhook_activates_and_assigns_the_roles(
    client,
    sandbox,
    staff_user,
    reseller,
    verified_contoso,
    helpdesk,
    signed_delivery,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    gdap_request = gdap.gdap_request_submit(gdap_request_id=create(staff_user, reseller, helpdesk).pk)
    approve(sandbox, gdap_request.relationship_id)
    body, headers = signed_delivery(
        "granular-admin-relationship-approved",
        f"{sandbox.url}{GRAPH}/{gdap_request.relationship_id}",
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
    assert gdap_request.access_assignment_status == "pending"


def test_a_direct_customers_tenant_with_a_completed_order_is_allowed(
    sandbox, staff_user, helpdesk, eager_worker, django_capture_on_commit_callbacks
):
    woodgrove = DirectCustomerFactory(company_name="Woodgrove Bank")
    OrderFactory(
        organization=woodgrove, end_customer=None, status="completed", customer_tenant_id=WINGTIP_TENANT
    )
    hold(woodgrove, WINGTIP_TENANT)
    gdap_request = create(staff_user, woodgrove, helpdesk, tenant=WINGTIP_TENANT.upper(), duration_days=30)
    tasks.gdap_request_submit.delay(gdap_request.pk)
    gdap_request.refresh_from_db()
    assert (
        gdap_request.customer_tenant_id == WINGTIP_TENANT and gdap_request.customer_name == "Woodgrove Bank"
    )
    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    assert at_microsoft(sandbox, gdap_request.relationship_id)["duration"] == "P30D"


# Refusals: nothing is recorded and Microsoft receives nothing -------------------------------------------------------


def test_a_tenant_the_organisation_does_not_hold_is_refused(
    sandbox, staff_user, reseller, outsider, verified_contoso, helpdesk
):
    """Contoso is Fabrikam's: not for Adatum, nor for Fabrikam's own pending authorization or unrelated tenant."""
    pending = "33333333-3333-4333-8333-000000000009"
    TenantAuthorizationFactory(organization=reseller, customer_tenant_id=pending)
    OrderFactory(organization=reseller, status="submitted", customer_tenant_id=WINGTIP_TENANT)
    for organization, tenant in (
        (outsider.organization, CONTOSO_TENANT),
        (reseller, pending),
        (reseller, WINGTIP_TENANT),
    ):
        with pytest.raises(NotAllowed) as refused:
            create(staff_user, organization, helpdesk, tenant=tenant)
        assert refused.value.field == "customer_tenant_id"
        assert "does not hold that tenant" in refused.value.message
    assert not GdapRequest.objects.exists()
    assert graph_calls(sandbox) == []


@pytest.mark.parametrize("tenant", ["contoso.com", "", "33333333-3333-4333-8333-00000000000g", "x" * 500])
def test_a_malformed_tenant_id_is_refused(sandbox, staff_user, reseller, helpdesk, tenant):
    with pytest.raises(InvalidInput) as refused:
        create(staff_user, reseller, helpdesk, tenant=tenant)
    assert refused.value.field == "customer_tenant_id"
    assert graph_calls(sandbox) == []


def test_one_open_request_per_tenant_and_template(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, global_admin
):
    first = create(staff_user, reseller, helpdesk)
    with pytest.raises(GdapRequestOpen) as refused:
        create(staff_user, reseller, helpdesk)
    assert refused.value.status == 409 and refused.value.field == "role_template"
    assert "already open" in refused.value.message
    assert (
        create(staff_user, reseller, global_admin).role_template == global_admin
    )  # another template is fine
    # Once the first is no longer open (active, ended or failed), a new one may be asked.
    GdapRequest.objects.filter(pk=first.pk).update(status=GdapRequest.Status.EXPIRED)
    assert create(staff_user, reseller, helpdesk).pk != first.pk


def test_the_database_refuses_a_second_open_request_for_the_same_tenant_and_template(
    staff_user, reseller, helpdesk
):
    row = {
        "organization": reseller,
        "customer_tenant_id": CONTOSO_TENANT,
        "customer_name": "Contoso",
        "role_template": helpdesk,
    }
    GdapRequest.objects.create(**row, display_name="a", request_id="1", status="approvalPending")
    GdapRequest.objects.create(**row, display_name="b", request_id="2", status="active")
    with pytest.raises(IntegrityError):
        GdapRequest.objects.create(**row, display_name="c", request_id="3", status="requested")


def test_a_template_without_a_security_group_is_refused(sandbox, staff_user, reseller, verified_contoso):
    from csp.models import GdapRoleTemplate

    template = GdapRoleTemplate.objects.get(name="User administration")
    with pytest.raises(InvalidInput) as refused:
        create(staff_user, reseller, template)
    assert refused.value.field == "role_template" and "no security group" in refused.value.message
    assert graph_calls(sandbox) == []


@pytest.mark.parametrize("days", [0, 731])
def test_duration_outside_microsofts_limits_is_refused(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, days
):
    with pytest.raises(InvalidInput) as refused:
        create(staff_user, reseller, helpdesk, duration_days=days)
    assert refused.value.field == "duration_days"


def test_no_auto_extend_with_global_administrator(
    sandbox, staff_user, reseller, verified_contoso, global_admin, helpdesk
):
    with pytest.raises(InvalidInput) as refused:
        create(staff_user, reseller, global_admin, auto_extend=True)
    assert refused.value.field == "auto_extend"
    assert create(staff_user, reseller, helpdesk, auto_extend=True).auto_extend


def test_display_names_are_unique_and_fit_graphs_limit(
    sandbox, staff_user, reseller, verified_contoso, helpdesk
):
    names = set()
    for _ in range(3):
        gdap_request = create(staff_user, reseller, helpdesk)
        names.add(gdap_request.display_name)
        GdapRequest.objects.filter(pk=gdap_request.pk).update(status=GdapRequest.Status.EXPIRED)
    assert len(names) == 3 and all(len(n) <= 50 for n in names)


def test_requests_never_approved_within_90_days_expire(
    sandbox, staff_user, reseller, verified_contoso, helpdesk
):
    gdap_request = gdap.gdap_request_submit(gdap_request_id=create(staff_user, reseller, helpdesk).pk)
    gdap.gdap_requests_follow(now=gdap_request.expires_at + timedelta(seconds=1))
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.EXPIRED and gdap_request.next_check_at is None


def test_request_get_answers_404_to_another_organisation(
    sandbox, staff_user, reseller, outsider, verified_contoso, helpdesk
):
    from django.http import Http404

    gdap_request = create(staff_user, reseller, helpdesk)
    assert gdap.gdap_request_get(reseller.pk, gdap_request.pk) == gdap_request
    with pytest.raises(Http404):
        gdap.gdap_request_get(outsider.organization_id, gdap_request.pk)


def test_an_active_request_without_a_security_group_is_an_error_and_nothing_is_sent(
    sandbox, reseller, helpdesk
):
    """A row from before templates named a group: staff are told; Microsoft receives nothing."""
    gdap_request = GdapRequest.objects.create(
        organization=reseller,
        customer_tenant_id=CONTOSO_TENANT,
        customer_name="Contoso Ltd",
        role_template=helpdesk,
        display_name="before-groups",
        request_id="before-groups",
        status=GdapRequest.Status.ACTIVE,
        relationship_id="rel-before-groups",
    )
    followed = gdap.gdap_access_assignment_follow(gdap_request_id=gdap_request.pk)
    assert followed.access_assignment_status == "error" and "No security group" in followed.last_error
    assert graph_calls(sandbox) == []


def test_a_broken_partner_center_connection_keeps_the_request_waiting_not_failed(
    sandbox, staff_user, reseller, verified_contoso, helpdesk, monkeypatch
):
    """Live mode's App+User sign-in refused (PartnerCenterNotConnected is a permanent error of sign-in, not of
    the request): staff are emailed to connect again, and the request goes through once they have."""
    from csp.connection import partner_center
    from csp.partner_center.exceptions import PartnerCenterNotConnected

    gdap_request = create(staff_user, reseller, helpdesk)
    tokens = partner_center().token_provider

    def refused(resource):
        raise PartnerCenterNotConnected(
            "The Partner Center connection no longer works", error="invalid_grant"
        )

    monkeypatch.setattr(tokens, "token", refused)
    waiting = gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)
    assert waiting.status == GdapRequest.Status.REQUESTED
    assert waiting.next_check_at is not None and "connection" in waiting.last_error
    monkeypatch.undo()  # an admin connected again

    assert gdap.gdap_requests_follow(now=timezone.now() + timedelta(hours=1)) == 1
    gdap_request.refresh_from_db()
    assert gdap_request.status == GdapRequest.Status.APPROVAL_PENDING
    approve(sandbox, gdap_request.relationship_id)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(status=GdapRequest.Status.ACTIVE)
    monkeypatch.setattr(tokens, "token", refused)
    waiting = gdap.gdap_access_assignment_follow(gdap_request_id=gdap_request.pk)
    assert waiting.access_assignment_status != "error" and waiting.next_check_at is not None
    monkeypatch.undo()
    assigned = gdap.gdap_access_assignment_follow(gdap_request_id=gdap_request.pk)
    assert assigned.access_assignment_status in ("pending", "active")
