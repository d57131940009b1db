"""GDAP: the distributor's delegated admin relationships with its customers' tenants, followed until the roles work.

A relationship created with the distributor's Graph token is the distributor's (`partner-center-api.md` section 7):
staff request it in admin for the organisation that holds the tenant; once the customer approves, the roles are
given to the distributor's security group through an access assignment, followed to active. Resellers request their
own relationships in their own Partner Center; they and direct customers only see the distributor's.

Services (`gdap_request_create`, `gdap_request_submit`, `gdap_request_refresh`, `gdap_access_assignment_follow`,
`gdap_requests_follow`) write; selectors (`gdap_role_templates`, `gdap_requests_for`, `gdap_request_get`,
`gdap_customer_tenants_for`) read, scoped to the organisation asking.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.models import Order
from common.errors import InvalidInput, NotAllowed
from common.ids import is_guid
from common.text import quoted
from csp import signals, trust
from csp.connection import partner_center
from csp.errors import GdapRequestOpen
from csp.models import (
    GDAP_OPEN_STATUSES,
    CloudServicesSettings,
    GdapRequest,
    GdapRoleTemplate,
    TenantAuthorization,
)
from csp.partner_center.client import GLOBAL_ADMINISTRATOR_ROLE_ID
from csp.partner_center.exceptions import (
    PartnerCenterError,
    PartnerCenterNotConnected,
    TransientPartnerCenterError,
)

logger = logging.getLogger(__name__)

MIN_DURATION_DAYS = 1
MAX_DURATION_DAYS = 730
DEFAULT_DURATION_DAYS = 730
APPROVAL_WINDOW = timedelta(days=90)
DISPLAY_NAME_MAX = 50
FOLLOW_INTERVAL = timedelta(minutes=5)
FOLLOW_MAX_INTERVAL = timedelta(hours=6)
# Partner Center's page of one customer's admin relationships, where a partner requests its own GDAP.
PARTNER_CENTER_CUSTOMER_GDAP_URL = (
    "https://partner.microsoft.com/dashboard/v2/customers/{tenant_id}/adminrelationships"
)
Status = GdapRequest.Status
Assignment = GdapRequest.AssignmentStatus

TENANT_NOT_HELD = "This organisation does not hold that tenant: it needs a verified authorization or a completed order for it."
AUTO_EXTEND_WITH_GLOBAL_ADMIN = (
    "Microsoft does not allow auto-extension when Global Administrator is requested."
)
ALREADY_OPEN = (
    "An admin relationship with these roles is already open for this tenant: follow that one, or wait until it "
    "is active or has ended."
)


# Rules ------------------------------------------------------------------------------------------------------------


def auto_extend_allowed(role_definition_ids: Iterable[str]) -> bool:
    """Microsoft offers no auto-extension for a relationship that includes Global Administrator."""
    return GLOBAL_ADMINISTRATOR_ROLE_ID not in {str(r).lower() for r in role_definition_ids}


def partner_center_gdap_link(tenant_id: str) -> str:
    """Where a reseller requests its own admin relationship for this customer, in its own Partner Center."""
    return PARTNER_CENTER_CUSTOMER_GDAP_URL.format(tenant_id=quote(tenant_id))


# Selectors --------------------------------------------------------------------------------------------------------


def gdap_role_templates() -> QuerySet[GdapRoleTemplate]:
    """The role templates the distributor offers, the default first."""
    return GdapRoleTemplate.objects.filter(is_active=True).order_by("-is_default", "name")


def gdap_requests_for(organization_id: int | None) -> QuerySet[GdapRequest]:
    """The distributor's relationships for the organisation's customer tenants (read-only for the organisation)."""
    return GdapRequest.objects.filter(organization_id=organization_id).select_related("role_template")


def gdap_request_get(organization_id: int | None, gdap_request_id: int) -> GdapRequest:
    """Another organisation's request answers 404, as if it did not exist."""
    return get_object_or_404(gdap_requests_for(organization_id), pk=gdap_request_id)


@dataclass(frozen=True)
class CustomerTenant:
    tenant_id: str
    name: str


def gdap_customer_tenants_for(organization_id: int | None) -> list[CustomerTenant]:
    """The tenants the organisation holds (`csp/trust.py`), named after the customer of its authorization or order."""
    if not organization_id:
        return []
    held = {tenant_id.lower() for tenant_id in trust.tenants_held_by(organization_id=organization_id)}
    names: dict[str, str] = {}
    authorizations = TenantAuthorization.objects.filter(
        organization_id=organization_id, status=TenantAuthorization.Status.VERIFIED
    ).exclude(customer_tenant_id="")
    for auth in authorizations.select_related("end_customer"):
        name = auth.end_customer.company_name if auth.end_customer else auth.default_domain
        names.setdefault(auth.customer_tenant_id.lower(), name)
    orders = Order.objects.filter(organization_id=organization_id).exclude(customer_tenant_id="")
    for order in orders.select_related("end_customer", "organization"):
        customer = order.end_customer or order.organization
        names.setdefault(order.customer_tenant_id.lower(), customer.company_name)
    found = [CustomerTenant(tenant_id, names.get(tenant_id) or tenant_id) for tenant_id in held]
    return sorted(found, key=lambda tenant: (tenant.name.lower(), tenant.tenant_id))


# Services ---------------------------------------------------------------------------------------------------------


def _display_name(customer_name: str) -> str:
    """Unique across the distributor's relationships and at most 50 characters, as Graph requires."""
    distributor = re.sub(r"[^A-Za-z0-9]+", "", CloudServicesSettings.load().distributor_name)[:12] or "CSP"
    customer = re.sub(r"[^A-Za-z0-9]+", "-", customer_name).strip("-")[:20] or "Customer"
    stamp = timezone.now().strftime("%Y%m%d")
    return f"{distributor}-{customer}-{stamp}-{secrets.token_hex(3)}"[:DISPLAY_NAME_MAX]


def gdap_request_create(
    *,
    organization_id: int,
    customer_tenant_id: str,
    role_template_id: int,
    user_id: int | None,
    duration_days: int | None = None,
    auto_extend: bool = False,
    reason: str = "",
) -> GdapRequest:
    """Records a distributor's GDAP request (staff); the caller queues `tasks.gdap_request_submit` after commit, and
    beat's follow pass sends any request the broker lost.

    1. the tenant must be one the organisation holds (`csp/trust.py`: verified, ordered, or a staff decision);
    2. the template must carry roles and the distributor's security group (without it nobody gets a role);
    3. Microsoft's limits: 1 to 730 days, no auto-extend with Global Administrator;
    4. one open request per tenant and template (the database enforces it too);
    5. the row gets a unique display name before anything is sent, so every retry can find what it created.
    """
    tenant_id = (customer_tenant_id or "").strip().lower()
    if not is_guid(tenant_id):
        raise InvalidInput("Enter the customer's Microsoft tenant id (a GUID).", field="customer_tenant_id")
    if not trust.organization_holds_tenant(organization_id=organization_id, tenant_id=tenant_id):
        raise NotAllowed(TENANT_NOT_HELD, field="customer_tenant_id")
    template = gdap_role_templates().filter(pk=role_template_id).first()
    if template is None or not template.roles:
        raise InvalidInput("Choose one of the offered role templates.", field="role_template")
    if not is_guid(template.security_group_id.strip()):
        raise InvalidInput(
            f"The role template {template.name} has no security group: set the distributor's security group "
            "id on it first, otherwise nobody would get the roles.",
            field="role_template",
        )
    days = DEFAULT_DURATION_DAYS if duration_days is None else duration_days
    if not MIN_DURATION_DAYS <= days <= MAX_DURATION_DAYS:
        raise InvalidInput(
            f"The duration must be between {MIN_DURATION_DAYS} and {MAX_DURATION_DAYS} days.",
            field="duration_days",
        )
    if auto_extend and not auto_extend_allowed(template.role_definition_ids):
        raise InvalidInput(AUTO_EXTEND_WITH_GLOBAL_ADMIN, field="auto_extend")
    if GdapRequest.objects.filter(
        customer_tenant_id=tenant_id, role_template=template, status__in=GDAP_OPEN_STATUSES
    ).exists():
        raise GdapRequestOpen(ALREADY_OPEN, field="role_template")
    names = {t.tenant_id: t.name for t in gdap_customer_tenants_for(organization_id)}
    customer_name = names.get(tenant_id, tenant_id)
    now = timezone.now()
    try:
        with transaction.atomic():
            gdap_request = GdapRequest.objects.create(
                organization_id=organization_id,
                requested_by_id=user_id,
                customer_tenant_id=tenant_id,
                customer_name=customer_name[:255],
                role_template=template,
                roles=list(template.roles),
                security_group_id=template.security_group_id.strip().lower(),
                reason=(reason or "").strip()[:500],
                display_name=_display_name(customer_name),
                duration_days=days,
                auto_extend=auto_extend,
                request_id=str(uuid.uuid4()),
                expires_at=now + APPROVAL_WINDOW,
                next_check_at=now + FOLLOW_INTERVAL,
            )
    except IntegrityError as error:  # another request for the same tenant and template won the race
        raise GdapRequestOpen(ALREADY_OPEN, field="role_template") from error
    return gdap_request


def _claimed(gdap_request: GdapRequest, field: str, now: datetime) -> bool:
    """Claims the right to send a create by a conditional UPDATE, so two workers never send it twice at once."""
    previous = getattr(gdap_request, field)
    claimed = GdapRequest.objects.filter(pk=gdap_request.pk, **{field: previous}).update(
        **{field: now, "next_check_at": now + FOLLOW_INTERVAL}
    )
    return claimed == 1


def _next_check(gdap_request: GdapRequest, now: datetime) -> dict[str, object]:
    delay = min(FOLLOW_INTERVAL * (2 ** min(gdap_request.check_attempts, 10)), FOLLOW_MAX_INTERVAL)
    return {"next_check_at": now + delay, "check_attempts": gdap_request.check_attempts + 1}


def _failed(gdap_request: GdapRequest, error: PartnerCenterError, now: datetime, *, permanent: dict) -> None:
    """A transient error waits for the next check (with back-off); a permanent one is recorded for staff."""
    logger.warning("GDAP request %s: Microsoft answered %s", gdap_request.pk, error)
    changes: dict[str, object] = {"last_error": str(error)[:2000], "last_checked_at": now}
    if isinstance(error, TransientPartnerCenterError | PartnerCenterNotConnected):
        # Not connected: the distributor's sign-in is refused, not the request (staff are emailed to connect again)
        changes.update(_next_check(gdap_request, now))
    else:
        changes.update(permanent)
    GdapRequest.objects.filter(pk=gdap_request.pk).update(**changes)


def gdap_request_submit(*, gdap_request_id: int) -> GdapRequest:
    """Creates the relationship at Microsoft exactly once and locks it for approval.

    1. a retry of a create that may have reached Graph first looks the relationship up by its display name;
    2. otherwise the sending is recorded (claimed), then the create is sent;
    3. a `created` relationship is locked for approval (read again first on a retry: the lock is not idempotent);
    4. the approval link is stored and emailed to the staff member who asked.
    """
    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    if gdap_request.status not in (Status.REQUESTED, Status.CREATED):
        return gdap_request
    client = partner_center()
    now = timezone.now()
    retrying = gdap_request.create_sent_at is not None
    try:
        if not gdap_request.relationship_id:
            relationship = client.find_gdap_relationship(gdap_request.display_name) if retrying else None
            if relationship is None:
                if not _claimed(gdap_request, "create_sent_at", now):
                    return GdapRequest.objects.get(pk=gdap_request.pk)
                relationship = client.create_gdap_relationship(
                    display_name=gdap_request.display_name,
                    customer_tenant_id=gdap_request.customer_tenant_id,
                    customer_name=gdap_request.customer_name,
                    role_definition_ids=[r["role_definition_id"] for r in gdap_request.roles],
                    duration_days=gdap_request.duration_days,
                    auto_extend=gdap_request.auto_extend,
                    request_id=gdap_request.request_id,
                )
            status = relationship.status if relationship.status in Status.values else Status.CREATED
            GdapRequest.objects.filter(pk=gdap_request.pk).update(
                relationship_id=relationship.id, status=status, etag=relationship.etag or ""
            )
            gdap_request.refresh_from_db()
        elif retrying:
            current = client.get_gdap_relationship(gdap_request.relationship_id)
            GdapRequest.objects.filter(pk=gdap_request.pk).update(
                status=current.status if current.status in Status.values else gdap_request.status,
                etag=current.etag or gdap_request.etag,
            )
            gdap_request.refresh_from_db()
        if gdap_request.status == Status.CREATED:
            client.lock_gdap_for_approval(gdap_request.relationship_id, etag=gdap_request.etag or None)
    except PartnerCenterError as error:
        _failed(gdap_request, error, now, permanent={"status": Status.FAILED, "next_check_at": None})
        return GdapRequest.objects.get(pk=gdap_request.pk)
    with transaction.atomic():
        GdapRequest.objects.filter(pk=gdap_request.pk, status__in=(Status.CREATED, Status.REQUESTED)).update(
            status=Status.APPROVAL_PENDING
        )
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            approval_link=client.gdap_approval_link(gdap_request.relationship_id),
            next_check_at=now + FOLLOW_INTERVAL,
            check_attempts=0,
            last_error="",
        )
        transaction.on_commit(lambda: _email_approval_link(gdap_request.pk))
    return GdapRequest.objects.get(pk=gdap_request.pk)


def _email_to_requester(gdap_request: GdapRequest, subject: str, body: str) -> None:
    if not gdap_request.requested_by or not gdap_request.requested_by.email:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [gdap_request.requested_by.email])
    except Exception:
        logger.exception("Could not email about GDAP request %s", gdap_request.pk)


def _email_approval_link(gdap_request_id: int) -> None:
    gdap_request = GdapRequest.objects.select_related("requested_by").get(pk=gdap_request_id)
    roles = ", ".join(r.get("name", r.get("role_definition_id", "")) for r in gdap_request.roles)
    _email_to_requester(
        gdap_request,
        f"Approval link for admin access to {quoted(gdap_request.customer_name)}",
        f"The admin relationship {gdap_request.display_name} with {quoted(gdap_request.customer_name)}'s Microsoft tenant "
        f"({gdap_request.customer_tenant_id}) is ready for the customer's approval.\n\nRoles: {roles}\n"
        f"Duration: {gdap_request.duration_days} days"
        f"{' (auto-extended by 180 days)' if gdap_request.auto_extend else ''}\n\n"
        "Send this approval link to a Global Administrator of the customer. They sign in and approve:\n"
        f"{gdap_request.approval_link}\n\nThe request expires if not approved within 90 days. Once approved, the "
        "storefront gives the roles to the security group of the role template.\n",
    )


def _end_date(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def gdap_request_refresh(*, gdap_request_id: int, scheduled: bool = True) -> GdapRequest:
    """Reads the relationship's status from Microsoft (approvalPending -> approved -> active); once it is active,
    gives its roles to the distributor's security group and follows that access assignment.

    Only the worker's scheduled checks move the back-off (`scheduled`); a read someone asked for (the API, admin,
    a webhook) leaves the worker's schedule alone, so an integrator polling the API does not push it out.
    """
    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    if gdap_request.relationship_id and gdap_request.status in GDAP_OPEN_STATUSES:
        gdap_request = _relationship_refresh(gdap_request, scheduled=scheduled)
    if gdap_request.assignment_is_open:
        gdap_request = gdap_access_assignment_follow(gdap_request_id=gdap_request.pk, scheduled=scheduled)
    return gdap_request


def _relationship_refresh(gdap_request: GdapRequest, *, scheduled: bool) -> GdapRequest:
    now = timezone.now()
    try:
        relationship = partner_center().get_gdap_relationship(gdap_request.relationship_id)
    except PartnerCenterError as error:
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            last_error=str(error)[:2000],
            last_checked_at=now,
            **(_next_check(gdap_request, now) if scheduled else {}),
        )
        return GdapRequest.objects.get(pk=gdap_request.pk)
    changes: dict[str, object] = {
        "status": relationship.status if relationship.status in Status.values else gdap_request.status,
        "etag": relationship.etag or gdap_request.etag,
        "last_checked_at": now,
        "last_error": "",
    }
    became_active = changes["status"] == Status.ACTIVE and gdap_request.status != Status.ACTIVE
    if became_active:
        changes["activated_at"] = now
        changes["next_check_at"] = now  # the access assignment is due at once
        changes["check_attempts"] = 0
    if changes["status"] in (Status.ACTIVE, Status.EXPIRING) and relationship.end_date_time:
        changes["expires_at"] = _end_date(relationship.end_date_time)
    if changes["status"] in GDAP_OPEN_STATUSES:
        if scheduled:
            changes.update(_next_check(gdap_request, now))
    elif not became_active:
        changes["next_check_at"] = None
    with transaction.atomic():
        updated = GdapRequest.objects.filter(pk=gdap_request.pk, status=gdap_request.status).update(**changes)
        if updated and became_active:
            signals.announce(signals.gdap_active, sender=GdapRequest, gdap_request_id=gdap_request.pk)
    return GdapRequest.objects.get(pk=gdap_request.pk)


def gdap_access_assignment_follow(*, gdap_request_id: int, scheduled: bool = True) -> GdapRequest:
    """Gives an active relationship's roles to the template's security group, and follows it to `active`.

    1. no assignment yet: a retry of a create that may have reached Graph first looks for the group's assignment;
       otherwise the sending is recorded (claimed), then the assignment is created (`pending`);
    2. pending: its status is read again; once `active` the group's members have the roles: the requester is told.
    """
    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    if not gdap_request.assignment_is_open:
        return gdap_request
    if not gdap_request.security_group_id:  # a request made before templates named a group: staff must act
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            access_assignment_status=Assignment.ERROR,
            last_error="No security group to give the roles to: set one on the role template and request again.",
            next_check_at=None,
        )
        return GdapRequest.objects.get(pk=gdap_request.pk)
    client = partner_center()
    now = timezone.now()
    roles = [r["role_definition_id"] for r in gdap_request.roles]
    try:
        if not gdap_request.access_assignment_id:
            assignment = None
            if gdap_request.access_assignment_sent_at is not None:
                assignment = next(
                    (
                        a
                        for a in client.gdap_access_assignments(gdap_request.relationship_id)
                        if (a.security_group_id or "").lower() == gdap_request.security_group_id
                    ),
                    None,
                )
            if assignment is None:
                if not _claimed(gdap_request, "access_assignment_sent_at", now):
                    return GdapRequest.objects.get(pk=gdap_request.pk)
                assignment = client.create_gdap_access_assignment(
                    gdap_request.relationship_id,
                    security_group_id=gdap_request.security_group_id,
                    role_definition_ids=roles,
                    request_id=str(uuid.uuid4()),
                )
        else:
            assignment = client.get_gdap_access_assignment(
                gdap_request.relationship_id, gdap_request.access_assignment_id
            )
    except PartnerCenterError as error:
        _failed(
            gdap_request,
            error,
            now,
            permanent={"access_assignment_status": Assignment.ERROR, "next_check_at": None},
        )
        return GdapRequest.objects.get(pk=gdap_request.pk)
    status = assignment.status if assignment.status in Assignment.values else Assignment.PENDING
    changes: dict[str, object] = {
        "access_assignment_id": assignment.id,
        "access_assignment_status": status,
        "last_checked_at": now,
        "last_error": "",
    }
    if status == Assignment.PENDING:
        changes.update(
            _next_check(gdap_request, now) if scheduled else {"next_check_at": now + FOLLOW_INTERVAL}
        )
    else:
        changes["next_check_at"] = None
    with transaction.atomic():
        updated = GdapRequest.objects.filter(
            pk=gdap_request.pk, access_assignment_status=gdap_request.access_assignment_status
        ).update(**changes)
        if updated and status == Assignment.ACTIVE:
            GdapRequest.objects.filter(pk=gdap_request.pk).update(roles_active_at=now)
            transaction.on_commit(lambda: _email_roles_active(gdap_request.pk))
    return GdapRequest.objects.get(pk=gdap_request.pk)


def _email_roles_active(gdap_request_id: int) -> None:
    gdap_request = GdapRequest.objects.select_related("requested_by", "role_template").get(pk=gdap_request_id)
    group = gdap_request.role_template.security_group_name or gdap_request.security_group_id
    _email_to_requester(
        gdap_request,
        f"Admin access to {quoted(gdap_request.customer_name)} is active",
        f"{quoted(gdap_request.customer_name)} approved the admin relationship {gdap_request.display_name}, and its roles "
        f"are now given to the security group {group}: its members can administer the customer's tenant.\n",
    )


ON_DEMAND_REFRESH_AFTER = timedelta(seconds=10)


def gdap_request_refresh_if_stale(gdap_request: GdapRequest) -> GdapRequest:
    """For someone looking at an open request (the page, the API): Microsoft's status, read at most every 10
    seconds, so an approval shows within seconds rather than at the worker's next scheduled check."""
    if not gdap_request.relationship_id or not (gdap_request.is_open or gdap_request.assignment_is_open):
        return gdap_request
    last = gdap_request.last_checked_at
    if last is not None and timezone.now() - last < ON_DEMAND_REFRESH_AFTER:
        return gdap_request
    return gdap_request_refresh(gdap_request_id=gdap_request.pk, scheduled=False)


def gdap_requests_follow(*, now: datetime | None = None, limit: int = 200) -> int:
    """Moves every due request one step: sends the unsent, follows the relationship, then its access assignment;
    expires those never approved within 90 days."""
    now = now or timezone.now()
    GdapRequest.objects.filter(status=Status.APPROVAL_PENDING, expires_at__lte=now).update(
        status=Status.EXPIRED, next_check_at=None
    )
    waiting = Q(status__in=GDAP_OPEN_STATUSES) | Q(
        status=Status.ACTIVE, access_assignment_status__in=(Assignment.NONE, Assignment.PENDING)
    )
    due = GdapRequest.objects.filter(waiting, next_check_at__lte=now).order_by("next_check_at")
    followed = 0
    for gdap_request_id, status in due.values_list("pk", "status")[:limit]:
        if status in (Status.REQUESTED, Status.CREATED):
            gdap_request_submit(gdap_request_id=gdap_request_id)
        else:
            gdap_request_refresh(gdap_request_id=gdap_request_id)
        followed += 1
    return followed
