"""The background polling pass: pending tenant authorizations become verified without anyone clicking Verify.

A pass costs one Partner Center call per page of the distributor's customers plus a small constant per
authorization that changed, however many are pending:

1. expire the pending authorizations past their expiry date;
2. claim the due ones with a conditional UPDATE of `claimed_until`, so two workers never process the same row;
3. resolve each claimed row's initial domain to its tenant id once and keep it in `expected_tenant_id`;
4. read the distributor's customers page by page into a set of tenant ids;
5. for the matches only, confirm (an indirect reseller's relationship needs one more call) and verify
   through `csp.authorizations`;
6. back the others off exponentially through `next_check_at` and release the claims.

Status changes go through `csp.authorizations`; this module only writes the scheduling fields.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from common.errors import StorefrontError
from csp import authorizations
from csp.connection import partner_center
from csp.models import AuthorizationTransition, CloudServicesSettings, TenantAuthorization
from csp.partner_center.exceptions import PartnerCenterError

logger = logging.getLogger(__name__)

Status = TenantAuthorization.Status
Actor = AuthorizationTransition.Actor

DEFAULT_BATCH_SIZE = 20_000
CUSTOMERS_PAGE_SIZE = 500
MAX_CUSTOMER_PAGES = 1_000
CLAIM_LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
CHUNK = 500
LOADED_FIELDS = (
    "id",
    "kind",
    "status",
    "domain_prefix",
    "default_domain",
    "expected_tenant_id",
    "customer_tenant_id",
    "reseller_tenant_id",
    "reseller_mpn_id",
    "check_attempts",
    "end_customer_id",
    "requested_by_id",
)


@dataclass
class PollReport:
    """What one pass did, and what it cost at Microsoft."""

    claimed: int = 0
    resolved: int = 0
    checked: int = 0
    matched: int = 0
    verified: int = 0
    backed_off: int = 0
    expired: int = 0
    customer_pages: int = 0
    partner_center_calls: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in asdict(self).items())


def _chunks(values: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def backoff_delay(*, attempts: int, interval_minutes: int) -> timedelta:
    """The wait before the next check: the polling interval doubled per unanswered check, at most 6 hours."""
    interval = timedelta(minutes=max(interval_minutes, 1))
    if attempts >= 20:
        return MAX_BACKOFF
    return min(interval * (2**attempts), MAX_BACKOFF)


def _claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING, expires_at__gt=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def authorizations_claim(*, now: datetime, batch_size: int, due_only: bool = True) -> list[int]:
    """Claims up to `batch_size` pending rows for this pass; a row another pass holds is skipped.

    The UPDATE re-checks `claimed_until` row by row (PostgreSQL re-evaluates it under the row lock, SQLite
    serialises writers), and stamps the rows with this pass's own lease end, which identifies them afterwards.
    """
    condition = _claimable(now)
    if due_only:
        condition &= Q(next_check_at__isnull=True) | Q(next_check_at__lte=now)
    candidates = list(
        TenantAuthorization.objects.filter(condition)
        .order_by("next_check_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not candidates:
        return []
    stamp = now + CLAIM_LEASE + timedelta(microseconds=secrets.randbelow(999_999) + 1)
    for chunk in _chunks(candidates):
        TenantAuthorization.objects.filter(condition, pk__in=chunk).update(claimed_until=stamp)
    return list(
        TenantAuthorization.objects.filter(claimed_until=stamp, status=Status.PENDING).values_list(
            "pk", flat=True
        )
    )


def _tenant_of(authorization: TenantAuthorization) -> str:
    return (authorization.expected_tenant_id or authorization.customer_tenant_id or "").lower()


def _resolve(authorization: TenantAuthorization, report: PollReport) -> str:
    """The tenant owning the initial domain, asked once and remembered; '' when Microsoft knows none yet."""
    try:
        tenant_id = partner_center().tenant_id_for_domain(authorization.initial_domain)
    except PartnerCenterError as error:
        logger.warning("Could not resolve %s: %s", authorization.initial_domain, error)
        report.errors += 1
        return ""
    if not tenant_id:
        return ""
    TenantAuthorization.objects.filter(pk=authorization.pk, expected_tenant_id="").update(
        expected_tenant_id=tenant_id
    )
    authorization.expected_tenant_id = tenant_id
    report.resolved += 1
    return tenant_id.lower()


def _customer_tenant_ids(report: PollReport) -> set[str]:
    """Every tenant id in the distributor's customer list, one call per page."""
    client = partner_center()
    tenant_ids: set[str] = set()
    page = client.customers_page(size=CUSTOMERS_PAGE_SIZE)
    report.customer_pages += 1
    for _ in range(MAX_CUSTOMER_PAGES):
        tenant_ids.update(customer.tenant_id.lower() for customer in page.items)
        if page.next is None:
            break
        page = client.customers_page(continuation=page.next)
        report.customer_pages += 1
    return tenant_ids


def authorization_confirm(
    authorization: TenantAuthorization,
    *,
    tenant_id: str,
    actor: str = Actor.WORKER,
    listed_as_customer: bool = False,
) -> bool:
    """Confirms one authorization whose tenant is known and verifies it through the services.

    A tenant in the customer list needs only its reseller relationships (the reseller's, or for a direct link, that
    no reseller holds it); otherwise `csp.authorizations.relationship_check` asks Partner Center for the customer too.
    """
    domain = authorization.default_domain or authorization.initial_domain
    result = authorizations.relationship_check(
        authorization, default_domain=domain, tenant_id=tenant_id, listed_as_customer=listed_as_customer
    )
    TenantAuthorization.objects.filter(pk=authorization.pk, status=Status.PENDING).update(
        last_checked_at=timezone.now(), last_message=result.detail
    )
    if not result.exists:
        return False
    answer = f"Tenant {tenant_id} ({domain}): relationship found"
    return authorizations.tenant_authorization_mark_verified(
        authorization=authorization, tenant_id=tenant_id, actor=actor, answer=f"{answer} ({actor} check)"
    )


def authorization_watched(authorization: TenantAuthorization) -> bool:
    """Someone has the authorization's page open: its back-off starts again, so the next polling pass checks it
    (within the polling interval) rather than hours later. Costs no Partner Center call of its own, and no query
    while it is already due soon. Returns whether the schedule was brought forward."""
    if authorization.status != Status.PENDING:
        return False
    now = timezone.now()
    soon = now + backoff_delay(
        attempts=0, interval_minutes=CloudServicesSettings.load().polling_interval_minutes
    )
    if authorization.next_check_at is not None and authorization.next_check_at <= soon:
        return False
    return bool(
        TenantAuthorization.objects.filter(pk=authorization.pk, status=Status.PENDING).update(
            next_check_at=now, check_attempts=0
        )
    )


def authorizations_recheck_tenant(*, tenant_id: str, actor: str = Actor.WEBHOOK) -> int:
    """Re-checks now the pending authorizations of one tenant (a webhook named it); returns how many verified."""
    now = timezone.now()
    tenant = tenant_id.lower()
    verified = 0
    candidates = TenantAuthorization.objects.filter(
        Q(expected_tenant_id__iexact=tenant) | Q(customer_tenant_id__iexact=tenant),
        status=Status.PENDING,
        expires_at__gt=now,
    )[:50]
    for authorization in candidates:
        try:
            verified += authorization_confirm(authorization, tenant_id=tenant, actor=actor)
        except StorefrontError as error:
            logger.warning("Re-check of authorization %s failed: %s", authorization.pk, error.message)
    return verified


def _back_off(authorizations: Iterable[TenantAuthorization], *, now: datetime, interval: int) -> int:
    """Schedules the next check of each row later and later, releasing its claim; one UPDATE per attempt count."""
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for authorization in authorizations:
        by_attempts[authorization.check_attempts].append(authorization.pk)
    count = 0
    for attempts, ids in by_attempts.items():
        next_check_at = now + backoff_delay(attempts=attempts, interval_minutes=interval)
        for chunk in _chunks(ids):
            count += TenantAuthorization.objects.filter(pk__in=chunk, status=Status.PENDING).update(
                next_check_at=next_check_at,
                check_attempts=attempts + 1,
                last_checked_at=now,
                claimed_until=None,
            )
    return count


def _release(ids: list[int]) -> None:
    for chunk in _chunks(ids):
        TenantAuthorization.objects.filter(pk__in=chunk).update(claimed_until=None)


def authorizations_poll_pass(
    *, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE, due_only: bool = True
) -> PollReport:
    """One polling pass over the due pending authorizations (every pending one with `due_only=False`)."""
    now = now or timezone.now()
    report = PollReport()
    client = partner_center()
    calls_before = client.call_count
    report.expired = authorizations.tenant_authorizations_expire_due(now=now)
    claimed = authorizations_claim(now=now, batch_size=batch_size, due_only=due_only)
    report.claimed = len(claimed)
    if not claimed:
        return report
    interval = CloudServicesSettings.load().polling_interval_minutes
    released = False
    try:
        rows: list[TenantAuthorization] = []
        for chunk in _chunks(claimed):
            rows.extend(TenantAuthorization.objects.filter(pk__in=chunk).only(*LOADED_FIELDS))
        unresolved = [a for a in rows if not _tenant_of(a)]
        for authorization in unresolved:
            _resolve(authorization, report)
        with_tenant = [a for a in rows if _tenant_of(a)]
        customers: set[str] = set()
        if with_tenant:
            try:
                customers = _customer_tenant_ids(report)
            except PartnerCenterError as error:
                logger.warning("Polling pass stopped: the customer list could not be read: %s", error)
                report.errors += 1
                report.partner_center_calls = client.call_count - calls_before
                return report
        not_yet: list[TenantAuthorization] = [a for a in rows if not _tenant_of(a)]
        for authorization in with_tenant:
            tenant_id = _tenant_of(authorization)
            report.checked += 1
            if tenant_id not in customers:
                not_yet.append(authorization)
                continue
            report.matched += 1
            try:
                if authorization_confirm(authorization, tenant_id=tenant_id, listed_as_customer=True):
                    report.verified += 1
                    continue
            except StorefrontError as error:
                logger.warning("Check of authorization %s failed: %s", authorization.pk, error.message)
                report.errors += 1
            not_yet.append(authorization)
        report.backed_off = _back_off(not_yet, now=now, interval=interval)
        released = True  # verified rows left the claim with their transition, the others with their back-off
    finally:
        if not released:
            _release(claimed)
    report.partner_center_calls = client.call_count - calls_before
    logger.info("Authorization polling pass: %s", report)
    return report
