"""GDAP: a reseller asks for delegated admin access to its customer's tenant, and we follow it to active.

Services (`gdap_request_create`, `gdap_request_refresh`, `gdap_requests_follow`) write; selectors
(`gdap_role_templates`, `gdap_requests_for`, `gdap_request_get`, `gdap_customer_tenants_for`) read, scoped to
the organisation asking.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from csp import signals
from csp.connection import partner_center
from csp.errors import InvalidInput, NotAllowed, PartnerCenterUnavailable
from csp.models import (
    GDAP_OPEN_STATUSES,
    CloudServicesSettings,
    GdapRequest,
    GdapRoleTemplate,
    TenantAuthorization,
)
from csp.notifications import quoted
from csp.partner_center.client import GLOBAL_ADMINISTRATOR_ROLE_ID
from csp.partner_center.exceptions import PartnerCenterError, TransientPartnerCenterError

logger = logging.getLogger(__name__)

MIN_DURATION_DAYS = 1
MAX_DURATION_DAYS = 730
DEFAULT_DURATION_DAYS = 730
APPROVAL_WINDOW = timedelta(days=90)
DISPLAY_NAME_MAX = 50
FOLLOW_INTERVAL = timedelta(minutes=5)
FOLLOW_MAX_INTERVAL = timedelta(hours=6)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Status = GdapRequest.Status


# Selectors --------------------------------------------------------------------------------------------------------


def gdap_role_templates() -> QuerySet[GdapRoleTemplate]:
    """The role templates the distributor offers, the default first."""
    return GdapRoleTemplate.objects.filter(is_active=True).order_by("-is_default", "name")


def gdap_requests_for(organization_id: int | None) -> QuerySet[GdapRequest]:
    return GdapRequest.objects.filter(organization_id=organization_id).select_related("role_template")


def gdap_request_get(organization_id: int | None, gdap_request_id: int) -> GdapRequest:
    """Another organisation's request answers 404, as if it did not exist."""
    return get_object_or_404(gdap_requests_for(organization_id), pk=gdap_request_id)


@dataclass(frozen=True)
class CustomerTenant:
    tenant_id: str
    name: str


def gdap_customer_tenants_for(organization_id: int | None) -> list[CustomerTenant]:
    """Tenants the organisation may ask admin access to: its verified authorizations and completed orders."""
    from billing.models import Order

    found: dict[str, str] = {}
    authorizations = TenantAuthorization.objects.filter(
        organization_id=organization_id, status=TenantAuthorization.Status.VERIFIED
    ).exclude(customer_tenant_id="")
    for auth in authorizations.select_related("end_customer"):
        name = auth.end_customer.company_name if auth.end_customer else auth.default_domain
        found.setdefault(auth.customer_tenant_id.lower(), name or auth.customer_tenant_id)
    orders = Order.objects.filter(organization_id=organization_id, status=Order.Status.COMPLETED).exclude(
        customer_tenant_id=""
    )
    for order in orders.select_related("end_customer", "organization"):
        customer = order.end_customer or order.organization
        found.setdefault(order.customer_tenant_id.lower(), customer.company_name)
    return [CustomerTenant(tenant_id, name) for tenant_id, name in sorted(found.items(), key=lambda i: i[1])]


# Services ---------------------------------------------------------------------------------------------------------


def _display_name(customer_name: str) -> str:
    """Unique across the distributor's relationships and at most 50 characters, as Graph requires."""
    distributor = re.sub(r"[^A-Za-z0-9]+", "", CloudServicesSettings.load().distributor_name)[:12] or "CSP"
    customer = re.sub(r"[^A-Za-z0-9]+", "-", customer_name).strip("-")[:20] or "Customer"
    stamp = timezone.now().strftime("%Y%m%d")
    return f"{distributor}-{customer}-{stamp}-{secrets.token_hex(3)}"[:DISPLAY_NAME_MAX]


def _user_facing(error: PartnerCenterError, what: str) -> PartnerCenterUnavailable:
    if isinstance(error, TransientPartnerCenterError):
        return PartnerCenterUnavailable(f"We could not reach Microsoft to {what} just now. Please try again.")
    return PartnerCenterUnavailable(
        f"Microsoft could not {what} (reference {error.request_id or 'unknown'}). Please contact us with this "
        "reference."
    )


def gdap_request_create(
    *,
    organization_id: int,
    user_id: int | None,
    customer_tenant_id: str,
    role_template_id: int,
    duration_days: int | None = None,
    auto_extend: bool = False,
) -> GdapRequest:
    """Creates the GDAP relationship at Microsoft, locks it for approval and emails the approval link.

    1. check the tenant belongs to the caller (a verified authorization or a completed order);
    2. check Microsoft's limits: 1 to 730 days, no auto-extend with Global Administrator;
    3. record the request with its MS-RequestId and a unique display name (so a retry creates nothing twice);
    4. create the relationship, lock it for approval, store the approval link; email it after commit.
    """
    tenant_id = (customer_tenant_id or "").strip().lower()
    if not GUID.match(tenant_id):
        raise InvalidInput("Enter the customer's Microsoft tenant id.", field="customer_tenant_id")
    tenants = {t.tenant_id: t for t in gdap_customer_tenants_for(organization_id)}
    if tenant_id not in tenants:
        raise NotAllowed(
            "You can ask admin access only for a customer tenant you have verified or ordered for.",
            field="customer_tenant_id",
        )
    template = gdap_role_templates().filter(pk=role_template_id).first()
    if template is None or not template.roles:
        raise InvalidInput("Choose one of the offered role templates.", field="role_template")
    days = DEFAULT_DURATION_DAYS if duration_days is None else duration_days
    if not MIN_DURATION_DAYS <= days <= MAX_DURATION_DAYS:
        raise InvalidInput(
            f"The duration must be between {MIN_DURATION_DAYS} and {MAX_DURATION_DAYS} days.",
            field="duration_days",
        )
    if auto_extend and GLOBAL_ADMINISTRATOR_ROLE_ID in template.role_definition_ids:
        raise InvalidInput(
            "Microsoft does not allow auto-extension when Global Administrator is requested.",
            field="auto_extend",
        )
    gdap_request = GdapRequest.objects.create(
        organization_id=organization_id,
        requested_by_id=user_id,
        customer_tenant_id=tenant_id,
        customer_name=tenants[tenant_id].name[:255],
        role_template=template,
        roles=list(template.roles),
        display_name=_display_name(tenants[tenant_id].name),
        duration_days=days,
        auto_extend=auto_extend,
        request_id=str(uuid.uuid4()),
        expires_at=timezone.now() + APPROVAL_WINDOW,
    )
    return gdap_request_submit(gdap_request_id=gdap_request.pk)


def gdap_request_submit(*, gdap_request_id: int) -> GdapRequest:
    """Creates and locks the relationship at Microsoft (idempotent: the same MS-RequestId on a retry)."""
    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    client = partner_center()
    try:
        if not gdap_request.relationship_id:
            relationship = client.create_gdap_relationship(
                display_name=gdap_request.display_name,
                customer_tenant_id=gdap_request.customer_tenant_id,
                customer_name=gdap_request.customer_name,
                role_definition_ids=[r["role_definition_id"] for r in gdap_request.roles],
                duration_days=gdap_request.duration_days,
                auto_extend=gdap_request.auto_extend,
                request_id=gdap_request.request_id,
            )
            GdapRequest.objects.filter(pk=gdap_request.pk).update(
                relationship_id=relationship.id, status=relationship.status, etag=relationship.etag or ""
            )
            gdap_request.refresh_from_db()
        if gdap_request.status in (Status.CREATED, Status.REQUESTED):
            client.lock_gdap_for_approval(gdap_request.relationship_id, etag=gdap_request.etag or None)
    except PartnerCenterError as error:
        logger.warning("GDAP request %s failed at Microsoft: %s", gdap_request.pk, error)
        permanent = not isinstance(error, TransientPartnerCenterError)
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            status=Status.FAILED if permanent else gdap_request.status, last_error=str(error)[:2000]
        )
        raise _user_facing(error, "create the admin relationship") from error
    now = timezone.now()
    with transaction.atomic():
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            status=Status.APPROVAL_PENDING,
            approval_link=client.gdap_approval_link(gdap_request.relationship_id),
            next_check_at=now + FOLLOW_INTERVAL,
            last_error="",
        )
        gdap_request.refresh_from_db()
        transaction.on_commit(lambda: _email_approval_link(gdap_request.pk))
    return gdap_request


def _email_approval_link(gdap_request_id: int) -> None:
    gdap_request = GdapRequest.objects.select_related("requested_by", "role_template").get(pk=gdap_request_id)
    if not gdap_request.requested_by or not gdap_request.requested_by.email:
        return
    roles = ", ".join(r.get("name", r.get("role_definition_id", "")) for r in gdap_request.roles)
    body = (
        f"You asked for admin access (GDAP) to the Microsoft tenant of {quoted(gdap_request.customer_name)} "
        f"({gdap_request.customer_tenant_id}).\n\nRoles: {roles}\nDuration: {gdap_request.duration_days} days"
        f"{' (auto-extended by 180 days)' if gdap_request.auto_extend else ''}\n\n"
        "Send this approval link to a Global Administrator of the customer. They sign in and approve:\n"
        f"{gdap_request.approval_link}\n\nThe request expires if not approved within 90 days. Follow it at "
        f"{settings.STOREFRONT_BASE_URL}/gdap/{gdap_request.pk}/\n"
    )
    try:
        send_mail(
            f"Approval link for admin access to {quoted(gdap_request.customer_name)}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [gdap_request.requested_by.email],
        )
    except Exception:
        logger.exception("Could not email the GDAP approval link of request %s", gdap_request.pk)


def _end_date(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def _next_check(gdap_request: GdapRequest, now: datetime) -> dict[str, object]:
    delay = min(FOLLOW_INTERVAL * (2 ** min(gdap_request.check_attempts, 10)), FOLLOW_MAX_INTERVAL)
    return {"next_check_at": now + delay, "check_attempts": gdap_request.check_attempts + 1}


def gdap_request_refresh(*, gdap_request_id: int, scheduled: bool = True) -> GdapRequest:
    """Reads the relationship's status from Microsoft and records it (approvalPending -> approved -> active).

    Only the worker's scheduled checks move the back-off (`scheduled`); a read someone asked for (the API, admin,
    a webhook) leaves the worker's schedule alone, so an integrator polling the API does not push it out.
    """
    gdap_request = GdapRequest.objects.get(pk=gdap_request_id)
    if not gdap_request.relationship_id or gdap_request.status not in GDAP_OPEN_STATUSES:
        return gdap_request
    now = timezone.now()
    try:
        relationship = partner_center().get_gdap_relationship(gdap_request.relationship_id)
    except PartnerCenterError as error:
        GdapRequest.objects.filter(pk=gdap_request.pk).update(
            last_error=str(error)[:2000],
            last_checked_at=now,
            **(_next_check(gdap_request, now) if scheduled else {}),
        )
        gdap_request.refresh_from_db()
        return gdap_request
    changes: dict[str, object] = {
        "status": relationship.status if relationship.status in Status.values else gdap_request.status,
        "etag": relationship.etag or gdap_request.etag,
        "last_checked_at": now,
        "last_error": "",
    }
    became_active = changes["status"] == Status.ACTIVE and gdap_request.status != Status.ACTIVE
    if became_active:
        changes["activated_at"] = now
    if changes["status"] in (Status.ACTIVE, Status.EXPIRING) and relationship.end_date_time:
        changes["expires_at"] = _end_date(relationship.end_date_time)
    if changes["status"] in GDAP_OPEN_STATUSES:
        if scheduled:
            changes.update(_next_check(gdap_request, now))
    else:
        changes["next_check_at"] = None
    with transaction.atomic():
        updated = GdapRequest.objects.filter(pk=gdap_request.pk, status=gdap_request.status).update(**changes)
        if updated and became_active:
            transaction.on_commit(lambda: _email_active(gdap_request.pk))
            signals.announce(signals.gdap_active, sender=GdapRequest, gdap_request_id=gdap_request.pk)
    gdap_request.refresh_from_db()
    return gdap_request


ON_DEMAND_REFRESH_AFTER = timedelta(seconds=10)


def gdap_request_refresh_if_stale(gdap_request: GdapRequest) -> GdapRequest:
    """For someone looking at an open request (the page, the API): Microsoft's status, read at most every 10
    seconds, so an approval shows within seconds rather than at the worker's next scheduled check."""
    if not gdap_request.relationship_id or not gdap_request.is_open:
        return gdap_request
    last = gdap_request.last_checked_at
    if last is not None and timezone.now() - last < ON_DEMAND_REFRESH_AFTER:
        return gdap_request
    return gdap_request_refresh(gdap_request_id=gdap_request.pk, scheduled=False)


def _email_active(gdap_request_id: int) -> None:
    gdap_request = GdapRequest.objects.select_related("requested_by").get(pk=gdap_request_id)
    if not gdap_request.requested_by or not gdap_request.requested_by.email:
        return
    try:
        send_mail(
            f"Admin access to {quoted(gdap_request.customer_name)} is active",
            f"{quoted(gdap_request.customer_name)} approved your admin access request ({gdap_request.display_name}).\n"
            "Assign the roles to your security groups in Partner Center to start using it.\n",
            settings.DEFAULT_FROM_EMAIL,
            [gdap_request.requested_by.email],
        )
    except Exception:
        logger.exception("Could not email the activation of GDAP request %s", gdap_request.pk)


def gdap_requests_follow(*, now: datetime | None = None, limit: int = 200) -> int:
    """Refreshes the open requests whose next check is due; expires those never approved in 90 days."""
    now = now or timezone.now()
    GdapRequest.objects.filter(status=Status.APPROVAL_PENDING, expires_at__lte=now).update(
        status=Status.EXPIRED, next_check_at=None
    )
    due = GdapRequest.objects.filter(status__in=GDAP_OPEN_STATUSES, next_check_at__lte=now).exclude(
        relationship_id=""
    )
    refreshed = 0
    for gdap_request_id in due.order_by("next_check_at").values_list("pk", flat=True)[:limit]:
        gdap_request_refresh(gdap_request_id=gdap_request_id)
        refreshed += 1
    return refreshed
