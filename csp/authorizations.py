"""Tenant authorizations: the link for an existing tenant, Verify Authorization, and how a tenant is proved the
organisation's (Microsoft's relationship, the tenant administrator's sign-in, a distributor admin's decision).

This module alone changes a tenant authorization's status, through guarded transitions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.errors import InvalidInput
from csp import domains, signals, trust
from csp.calls import microsoft_call, unavailable
from csp.connection import partner_center, tenant_sign_in
from csp.domains import DomainCheck, domain_prefix_check
from csp.errors import NoTenantForDomain, PartnerCenterUnavailable
from csp.models import (
    AuthorizationTransition,
    CloudServicesSettings,
    TenantAuthorization,
    TenantHolding,
)
from csp.mpn_ids import MpnCheck, mpn_id_require
from csp.partner_center.exceptions import (
    PartnerCenterAuthError,
    TransientPartnerCenterError,
)

logger = logging.getLogger(__name__)

Status = TenantAuthorization.Status
Actor = AuthorizationTransition.Actor

NOT_YET_MESSAGE = "The authorization has not been completed yet."
NO_TENANT_MESSAGE = "No Microsoft tenant uses this domain yet: order it as a new tenant."
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING: {Status.VERIFIED, Status.EXPIRED, Status.CANCELLED},
}
LINK_CACHE_SECONDS = 3600


def _relationship_link(*, reseller_tenant_id: str | None) -> str:
    """The invitation link; it holds nothing customer-specific, so it is cached per reseller."""
    distributor_tenant = CloudServicesSettings.load().distributor_tenant_id
    key = f"csp:relationship-link:{settings.PARTNER_CENTER_MODE}:{distributor_tenant}:{reseller_tenant_id or 'direct'}"
    link = cache.get(key)
    if link is None:
        client = partner_center()
        if reseller_tenant_id:
            result = microsoft_call(
                "create the authorization link",
                client.relationship_request_link,
                indirect_reseller_tenant_id=reseller_tenant_id,
                indirect_provider_tenant_id=distributor_tenant,
            )
        else:
            result = microsoft_call("create the authorization link", client.relationship_request_link)
        link = result.url
        cache.set(key, link, LINK_CACHE_SECONDS)
    return link


def _tenant_behind(check: DomainCheck) -> str:
    """The tenant that owns a taken prefix; an existing-tenant authorization is meaningless without one."""
    if check.available:
        raise NoTenantForDomain(NO_TENANT_MESSAGE, field="domain_prefix")
    tenant_id = check.tenant_id or microsoft_call(
        "look up the domain", partner_center().tenant_id_for_domain, check.domain
    )
    if not tenant_id:
        raise PartnerCenterUnavailable(
            f"Microsoft could not tell us which tenant owns {check.domain} just now. Please try again in a "
            "minute; nothing you entered has been lost.",
            field="domain_prefix",
        )
    return tenant_id.lower()


def tenant_authorization_request(
    *,
    organization_id: int,
    user_id: int | None,
    domain_prefix: str,
    mpn_id: str | None = None,
    end_customer_id: int | None = None,
    mpn_check: MpnCheck | None = None,
) -> TenantAuthorization:
    """Creates (or reuses) the pending authorization and its link for an existing tenant.

    1. The MPN ID must be the organisation's own and in the network; the end-customer must be its own
       (`mpn_check` is a network check the caller already made for the same ID).
    2. The prefix must belong to a tenant: the authorization is bound to that tenant from the start.
    3. For a direct link, whether the tenant already was the distributor's customer is recorded, since its
       acceptance then proves nothing about who asked.
    """
    prefix = domains.normalize_domain_prefix(domain_prefix)
    owned_mpn = trust.buyer_mpn_id(organization_id=organization_id, mpn_id=mpn_id)
    if end_customer_id is not None:
        trust.end_customer_owned_require(organization_id=organization_id, end_customer_id=end_customer_id)
    is_reseller = owned_mpn is not None
    mpn = None
    if is_reseller:
        mpn = mpn_check if mpn_check and mpn_check.valid and mpn_check.mpn_id == owned_mpn else None
        mpn = mpn or mpn_id_require(mpn_id=owned_mpn)
    reusable = (
        TenantAuthorization.objects.filter(
            organization_id=organization_id,
            domain_prefix=prefix,
            reseller_mpn_id=mpn.mpn_id if mpn else "",
            status__in=[Status.PENDING, Status.VERIFIED],
            expires_at__gt=timezone.now(),
        )
        .filter(Q(end_customer_id=end_customer_id) | Q(end_customer_id__isnull=True))
        .order_by("-end_customer_id", "-created_at")
        .first()
    )
    if reusable is not None:
        if end_customer_id and reusable.end_customer_id is None:
            TenantAuthorization.objects.filter(pk=reusable.pk, end_customer_id__isnull=True).update(
                end_customer_id=end_customer_id
            )
            reusable.refresh_from_db()
        return reusable
    tenant_id = _tenant_behind(domain_prefix_check(domain_prefix=prefix, for_reseller=is_reseller))
    was_customer = None
    if not is_reseller:
        was_customer = (
            microsoft_call("check the tenant", partner_center().get_customer, tenant_id) is not None
        )
    link = _relationship_link(reseller_tenant_id=mpn.reseller_tenant_id if mpn else None)
    expiry_days = CloudServicesSettings.load().authorization_expiry_days
    now = timezone.now()
    with transaction.atomic():
        authorization = TenantAuthorization.objects.create(
            kind=TenantAuthorization.Kind.INDIRECT_RESELLER
            if is_reseller
            else TenantAuthorization.Kind.DIRECT,
            organization_id=organization_id,
            end_customer_id=end_customer_id,
            requested_by_id=user_id,
            domain_prefix=prefix,
            default_domain=domains.initial_domain(prefix),
            authorization_link=link,
            reseller_mpn_id=mpn.mpn_id if mpn else "",
            reseller_tenant_id=mpn.reseller_tenant_id if mpn else "",
            expected_tenant_id=tenant_id,
            tenant_was_customer=was_customer,
            expires_at=now + timedelta(days=expiry_days),
            next_check_at=now + timedelta(minutes=1),
        )
        AuthorizationTransition.objects.create(
            authorization=authorization,
            from_status="",
            to_status=Status.PENDING,
            actor=Actor.USER if user_id else Actor.WORKER,
            user_id=user_id,
            microsoft_answer=f"Authorization link issued for tenant {tenant_id}"
            + (" (already the distributor's customer)" if was_customer else "")
            + f": {link}",
        )
    return authorization


def tenant_authorization_end_customer_bind(*, authorization_id: int, end_customer_id: int) -> None:
    """An authorization asked without naming the end-customer belongs to the first one an order names (once:
    a conditional UPDATE), so its tenant is never ordered for a second end-customer."""
    TenantAuthorization.objects.filter(pk=authorization_id, end_customer_id__isnull=True).update(
        end_customer_id=end_customer_id
    )


def _transition(
    authorization: TenantAuthorization,
    to_status: str,
    *,
    actor: str,
    user_id: int | None = None,
    answer: str = "",
    **changes,
) -> bool:
    """Moves the status only from the state we read (a conditional UPDATE), so racing workers change it once."""
    from_status = authorization.status
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        raise InvalidInput(
            f"An authorization that is {authorization.get_status_display().lower()} cannot become {to_status}."
        )
    with transaction.atomic():
        updated = TenantAuthorization.objects.filter(pk=authorization.pk, status=from_status).update(
            status=to_status, **changes
        )
        if not updated:
            authorization.refresh_from_db()
            return False
        AuthorizationTransition.objects.create(
            authorization=authorization,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            user_id=user_id,
            microsoft_answer=answer[:4000],
        )
    authorization.refresh_from_db()
    if to_status == Status.VERIFIED:
        _after_verified(authorization)
    elif to_status == Status.EXPIRED:
        signals.announce(
            signals.authorization_expired, sender=TenantAuthorization, authorization=authorization
        )
    return True


def _after_verified(authorization: TenantAuthorization) -> None:
    """The organisation now holds the tenant; the storefront remembers it on the end-customer; the buyer is told."""
    trust.tenant_hold(
        tenant_id=authorization.customer_tenant_id,
        organization_id=authorization.organization_id,
        source=TenantHolding.Source.AUTHORIZATION,
        authorization_id=authorization.pk,
    )
    signals.authorization_verified.send(sender=TenantAuthorization, authorization=authorization)


@dataclass(frozen=True)
class RelationshipAnswer:
    exists: bool
    tenant_id: str | None
    detail: str


def relationship_check(
    authorization: TenantAuthorization,
    *,
    default_domain: str,
    tenant_id: str | None = None,
    listed_as_customer: bool = False,
) -> RelationshipAnswer:
    """Resolves the default domain to its tenant and asks Partner Center whether the relationship exists.

    `listed_as_customer`: the tenant was just read in the distributor's customer list, so Partner Center is not
    asked again whether it is a customer (the polling pass saves one call per indirect match).
    """
    client = partner_center()
    if tenant_id is None:
        tenant_id = microsoft_call("look up the domain", client.tenant_id_for_domain, default_domain)
    if tenant_id is None:
        return RelationshipAnswer(
            False,
            None,
            f"{NOT_YET_MESSAGE} Microsoft does not know the domain {default_domain}. Check the spelling of the "
            "customer's default domain (it may be a custom domain such as contoso.com) and try again.",
        )
    if tenant_id.lower() != (authorization.expected_tenant_id or "").lower():
        return RelationshipAnswer(
            False,
            tenant_id,
            f"{NOT_YET_MESSAGE} The domain {default_domain} belongs to a different Microsoft tenant than "
            f"{authorization.initial_domain}. Enter the default domain of the tenant that owns "
            f"{authorization.initial_domain}.",
        )
    customer = (
        True
        if listed_as_customer
        else microsoft_call("check the authorization", client.get_customer, tenant_id)
    )
    wait = (
        "Ask the customer's administrator to open the authorization link, sign in with a Global Administrator "
        "account and accept, then select Verify Authorization again. We also check by ourselves every few minutes."
    )
    if customer is None:
        return RelationshipAnswer(False, tenant_id, f"{NOT_YET_MESSAGE} {wait}")
    if authorization.kind == TenantAuthorization.Kind.INDIRECT_RESELLER:
        relationships = microsoft_call("check the authorization", client.customer_relationships, tenant_id)
        linked = any(
            r.tenant_id == authorization.reseller_tenant_id
            or (r.mpn_id and r.mpn_id == authorization.reseller_mpn_id)
            for r in relationships
        )
        if not linked:
            return RelationshipAnswer(
                False,
                tenant_id,
                f"{NOT_YET_MESSAGE} The customer is connected to "
                f"{CloudServicesSettings.load().distributor_name} but has not yet accepted you as its reseller. "
                + wait,
            )
    elif (
        not authorization.ownership_proof
        and authorization.tenant_was_customer is False
        and microsoft_call("check the authorization", client.customer_relationships, tenant_id)
    ):
        # The direct link is the same for every buyer: a tenant that has (also) accepted a reseller's link since is
        # that reseller's customer, and its acceptance says nothing about this buyer.
        TenantAuthorization.objects.filter(pk=authorization.pk, tenant_was_customer=False).update(
            tenant_was_customer=True
        )
        authorization.tenant_was_customer = True
        return RelationshipAnswer(
            False,
            tenant_id,
            f"{NOT_YET_MESSAGE} This tenant is a customer of {CloudServicesSettings.load().distributor_name} "
            "through a reseller, so accepting the link does not show that it is yours. Ask the tenant's "
            "administrator to select Sign in with Microsoft below, or ask us to confirm it.",
        )
    return RelationshipAnswer(True, tenant_id, "The authorization is verified.")


@dataclass(frozen=True)
class VerificationResult:
    verified: bool
    message: str
    authorization: TenantAuthorization


def _refuse_closed(authorization: TenantAuthorization) -> None:
    if authorization.status == Status.EXPIRED:
        raise InvalidInput(
            "This authorization request expired. Tick the box again to get a new authorization link.",
            field="default_domain",
        )
    if authorization.status == Status.CANCELLED:
        raise InvalidInput("This authorization request was cancelled.", field="default_domain")


def tenant_authorization_verify(
    *, authorization_id: int, default_domain: str, actor: str = Actor.USER, user_id: int | None = None
) -> VerificationResult:
    """Checks with Microsoft that the customer accepted; only then is Checkout enabled."""
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    domain = domains.normalize_default_domain(default_domain)
    if authorization.status == Status.VERIFIED:
        return VerificationResult(True, "The authorization is verified.", authorization)
    _refuse_closed(authorization)
    if authorization.expires_at <= timezone.now():
        tenant_authorization_expire(authorization=authorization)
        _refuse_closed(authorization)
    _expected_tenant_require(authorization)
    answer = relationship_check(authorization, default_domain=domain)
    now = timezone.now()
    TenantAuthorization.objects.filter(pk=authorization.pk).update(
        default_domain=domain, last_checked_at=now, last_message=answer.detail
    )
    authorization.default_domain = domain
    if answer.exists:
        tenant_authorization_mark_verified(
            authorization=authorization,
            tenant_id=answer.tenant_id or "",
            actor=actor,
            user_id=user_id,
            answer=f"Tenant {answer.tenant_id} ({domain}): relationship found",
        )
        authorization.refresh_from_db()
        if authorization.is_verified:
            return VerificationResult(
                True, "The authorization is verified. You can now select Checkout.", authorization
            )
        return VerificationResult(False, authorization.last_message, authorization)
    authorization.refresh_from_db()
    return VerificationResult(False, answer.detail, authorization)


def _expected_tenant_require(authorization: TenantAuthorization) -> None:
    """Authorizations made before the tenant was bound at creation learn it now, from their initial domain."""
    if authorization.expected_tenant_id:
        return
    tenant_id = microsoft_call(
        "look up the domain", partner_center().tenant_id_for_domain, authorization.initial_domain
    )
    if not tenant_id:
        raise NoTenantForDomain(NO_TENANT_MESSAGE, field="default_domain")
    TenantAuthorization.objects.filter(pk=authorization.pk, expected_tenant_id="").update(
        expected_tenant_id=tenant_id.lower()
    )
    authorization.expected_tenant_id = tenant_id.lower()


def tenant_authorization_mark_verified(
    *,
    authorization: TenantAuthorization,
    tenant_id: str,
    actor: str,
    answer: str,
    user_id: int | None = None,
) -> bool:
    """Records that Microsoft confirmed the relationship (the caller has just checked it), when that proves the
    tenant is the organisation's (`csp.trust.tenant_proof_problem`); otherwise says why on the authorization."""
    with transaction.atomic():  # the check and the holding are written under the tenant's lock
        trust.tenant_lock(tenant_id=tenant_id)
        problem = trust.tenant_proof_problem(authorization=authorization, tenant_id=tenant_id)
        if problem is not None:
            TenantAuthorization.objects.filter(pk=authorization.pk, status=Status.PENDING).update(
                last_message=problem, last_checked_at=timezone.now()
            )
            authorization.last_message = problem
            return False
        return _transition(
            authorization,
            Status.VERIFIED,
            actor=actor,
            user_id=user_id,
            answer=answer,
            customer_tenant_id=tenant_id,
            verified_at=timezone.now(),
            next_check_at=None,
            claimed_until=None,
        )


def tenant_authorization_check_now(
    *, authorization_id: int, actor: str = Actor.ADMIN, user_id: int | None = None
) -> VerificationResult:
    """Re-checks a pending authorization with its last known default domain."""
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    return tenant_authorization_verify(
        authorization_id=authorization_id,
        default_domain=authorization.default_domain or authorization.initial_domain,
        actor=actor,
        user_id=user_id,
    )


def tenant_authorization_expire(*, authorization: TenantAuthorization, actor: str = Actor.WORKER) -> bool:
    return _transition(
        authorization, Status.EXPIRED, actor=actor, answer="Expired before the customer accepted"
    )


def tenant_authorization_cancel(
    *, authorization_id: int, user_id: int | None, actor: str = Actor.USER
) -> bool:
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    return _transition(authorization, Status.CANCELLED, actor=actor, user_id=user_id, answer="Cancelled")


def tenant_authorizations_expire_due(*, now: datetime | None = None) -> int:
    """Expires every pending authorization past its expiry date."""
    now = now or timezone.now()
    expired = 0
    for authorization in TenantAuthorization.objects.filter(status=Status.PENDING, expires_at__lte=now):
        expired += tenant_authorization_expire(authorization=authorization)
    return expired


def _ownership_proved(
    authorization: TenantAuthorization, *, proof: str, actor: str, user_id: int | None, note: str
) -> None:
    """Records how the tenant was proved the organisation's, in the authorization's history."""
    with transaction.atomic():
        TenantAuthorization.objects.filter(pk=authorization.pk).update(ownership_proof=proof)
        AuthorizationTransition.objects.create(
            authorization=authorization,
            from_status=authorization.status,
            to_status=authorization.status,
            actor=actor,
            user_id=user_id,
            microsoft_answer=note[:4000],
        )
    authorization.ownership_proof = proof


def tenant_authorization_approve_ownership(
    *, authorization_id: int, user_id: int, reason: str
) -> VerificationResult:
    """A distributor admin decides the tenant is this organisation's (with the reason); then Microsoft's
    relationship is checked as usual, so the authorization verifies once the customer has accepted."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason for the decision: it is kept in the authorization's history.")
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    if authorization.status != Status.PENDING:
        raise InvalidInput("Only a pending authorization can be approved.")
    _expected_tenant_require(authorization)
    trust.tenant_hold(
        tenant_id=authorization.expected_tenant_id,
        organization_id=authorization.organization_id,
        source=TenantHolding.Source.STAFF_DECISION,
        authorization_id=authorization.pk,
        reason=reason,
        decided_by_id=user_id,
    )
    _ownership_proved(
        authorization,
        proof=TenantAuthorization.OwnershipProof.STAFF_DECISION,
        actor=Actor.ADMIN,
        user_id=user_id,
        note=f"Approved as the organisation's tenant by a distributor admin: {reason}",
    )
    return tenant_authorization_check_now(
        authorization_id=authorization.pk, actor=Actor.ADMIN, user_id=user_id
    )


def tenant_authorization_prove_by_sign_in(
    *, authorization_id: int, signed_in_tenant_id: str, user_id: int | None, signed_in_as: str = ""
) -> VerificationResult:
    """The tenant's administrator signed in with Microsoft: the token's tenant must be the authorization's."""
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    _refuse_closed(authorization)
    _expected_tenant_require(authorization)
    if (signed_in_tenant_id or "").lower() != authorization.expected_tenant_id.lower():
        return VerificationResult(
            False,
            f"{NOT_YET_MESSAGE} The account that signed in belongs to another Microsoft tenant than "
            f"{authorization.initial_domain}. Sign in with an administrator of that tenant.",
            authorization,
        )
    if authorization.status == Status.PENDING:
        _ownership_proved(
            authorization,
            proof=TenantAuthorization.OwnershipProof.TENANT_ADMIN_SIGN_IN,
            actor=Actor.USER,
            user_id=user_id,
            note=f"The tenant's administrator {signed_in_as or ''} signed in with Microsoft".replace(
                "  ", " "
            ),
        )
    return tenant_authorization_check_now(
        authorization_id=authorization.pk, actor=Actor.USER, user_id=user_id
    )


def tenant_sign_in_start(*, authorization_id: int, redirect_uri: str) -> dict:
    """Where the tenant's administrator signs in with Microsoft to prove the tenant (flow kept by the caller)."""
    authorization = TenantAuthorization.objects.get(pk=authorization_id)
    _refuse_closed(authorization)
    return microsoft_call(
        "start the sign-in",
        tenant_sign_in().start,
        redirect_uri=redirect_uri,
        login_hint=f"admin@{authorization.initial_domain}",
    )


def tenant_sign_in_finish(
    *, authorization_id: int, flow: dict, response: dict[str, str], user_id: int | None
) -> VerificationResult:
    """The administrator came back from Microsoft: the ID token's tenant decides (`tenant_authorization_prove_by_sign_in`)."""
    try:
        account = tenant_sign_in().finish(flow=flow, response=response)
    except PartnerCenterAuthError as error:
        logger.warning("Tenant administrator sign-in failed: %s", error)
        raise InvalidInput(
            "The sign-in with Microsoft did not complete, so nothing was proved. Try Sign in with Microsoft again."
        ) from error
    except TransientPartnerCenterError as error:
        raise unavailable("complete the sign-in", error) from error
    return tenant_authorization_prove_by_sign_in(
        authorization_id=authorization_id,
        signed_in_tenant_id=account.tenant_id or "",
        user_id=user_id,
        signed_in_as=account.username,
    )
