"""The trust boundary: what an organisation provably owns (MPN IDs, Microsoft tenants, end-customers).

Every door that names an MPN ID, a tenant or an end-customer (pages, API, worker, admin) asks this module, so the
rule lives in one place. What a buyer typed says what they *claim*; these functions decide what they *own*.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django.db.models.signals import post_delete, post_save

from common.errors import InvalidInput
from common.singleton import ShortLivedRows
from csp.errors import EndCustomerMismatch, MpnNotYours
from csp.models import CloudServicesSettings, ResellerMpnId, TenantAuthorization, TenantHolding
from csp.mpn_ids import MpnCheck, mpn_id_check, normalize_mpn_id

MPN_NOT_YOURS_MESSAGE = "This MPN ID is not one of your organisation's. Ask the distributor to add it."
DIRECT_HAS_NO_MPN_MESSAGE = "Direct customers order without an MPN ID: leave it out."

Source = TenantHolding.Source


def _organization(organization_id: int):
    return (
        apps.get_model("accounts", "Organization")
        .objects.only("id", "kind", "mpn_id")
        .get(pk=organization_id)
    )


# MPN IDs ---------------------------------------------------------------------------------------------------------


def mpn_id_is_owned(*, organization_id: int, mpn_id: str) -> bool:
    return ResellerMpnId.objects.filter(organization_id=organization_id, mpn_id=mpn_id).exists()


_displayed_mpn_ids = ShortLivedRows("MPN IDs by value")
post_save.connect(_displayed_mpn_ids.forget, sender=ResellerMpnId, dispatch_uid="displayed-mpn-ids-save")
post_delete.connect(_displayed_mpn_ids.forget, sender=ResellerMpnId, dispatch_uid="displayed-mpn-ids-delete")


def mpn_id_shown_as_owned(*, organization_id: int, mpn_id: str) -> bool:
    """What a page shows as the buyer types: the MPN ID's row may be one read up to a few seconds ago in this
    process (`common.singleton`). What is enforced (`mpn_id_owned_require`, every submit) always reads the database."""
    row = _displayed_mpn_ids.get(
        mpn_id, lambda value: ResellerMpnId.objects.only("organization_id").filter(mpn_id=value).first()
    )
    return row is not None and row.organization_id == organization_id


def mpn_id_owned_require(*, organization_id: int, mpn_id: str) -> str:
    """The normalised MPN ID when it is one of the organisation's; otherwise the buyer is told at the field."""
    value = normalize_mpn_id(mpn_id)
    if not mpn_id_is_owned(organization_id=organization_id, mpn_id=value):
        raise MpnNotYours(MPN_NOT_YOURS_MESSAGE, field="mpn_id")
    return value


def buyer_mpn_id(*, organization_id: int, mpn_id: str | None) -> str | None:
    """The MPN ID an order or authorization is made under: the reseller's own (its default when none is typed),
    never one for a direct customer. Raises before anything is asked of Microsoft."""
    organization = _organization(organization_id)
    if organization.kind != "reseller":
        if (mpn_id or "").strip():
            raise InvalidInput(DIRECT_HAS_NO_MPN_MESSAGE, field="mpn_id")
        return None
    return mpn_id_owned_require(organization_id=organization_id, mpn_id=mpn_id or organization.mpn_id)


def mpn_id_attach(*, organization_id: int, mpn_id: str) -> bool:
    """Records an MPN ID as the organisation's unless another organisation holds it; returns whether it is theirs."""
    value = normalize_mpn_id(mpn_id)
    holder, _ = ResellerMpnId.objects.get_or_create(
        mpn_id=value, defaults={"organization_id": organization_id}
    )
    return holder.organization_id == organization_id


# Tenants ---------------------------------------------------------------------------------------------------------


def organization_holds_tenant(*, organization_id: int, tenant_id: str) -> bool:
    """Whether the organisation proved the tenant its own (verified authorization, new-tenant order or staff)."""
    if not tenant_id:
        return False
    return TenantHolding.objects.filter(organization_id=organization_id, tenant_id=tenant_id.lower()).exists()


def tenant_hold(
    *,
    tenant_id: str,
    organization_id: int,
    source: str,
    authorization_id: int | None = None,
    reason: str = "",
    decided_by_id: int | None = None,
) -> TenantHolding:
    """Records that the organisation holds the tenant (kept once; the first proof stays on record)."""
    holding, _ = TenantHolding.objects.get_or_create(
        tenant_id=tenant_id.lower(),
        organization_id=organization_id,
        defaults={
            "source": source,
            "authorization_id": authorization_id,
            "reason": reason,
            "decided_by_id": decided_by_id,
        },
    )
    return holding


def tenant_lock(*, tenant_id: str) -> None:
    """Serialises decisions about one tenant until the open transaction ends, so two organisations verifying it at
    once cannot both pass the "nobody else holds it" check (one tenant, one owner)."""
    if connection.vendor != "postgresql":
        return  # SQLite (a laptop) takes its write lock when the transaction begins: decisions are serial already
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tenant:{(tenant_id or '').lower()}"])


def tenant_proof_problem(*, authorization: TenantAuthorization, tenant_id: str) -> str | None:
    """Why Microsoft's answer does not (yet) prove the tenant is this organisation's; None when it does.

    1. The tenant must be the one behind the authorization's domain prefix.
    2. A tenant another organisation holds needs a distributor admin's decision.
    3. A direct link accepted by a tenant that was already the distributor's customer proves nothing about who
       asked: the tenant's administrator signs in with Microsoft, or a distributor admin decides.
    """
    expected = (authorization.expected_tenant_id or "").lower()
    tenant = (tenant_id or "").lower()
    if not expected or tenant != expected:
        return (
            f"The authorization has not been completed yet. That domain belongs to a different Microsoft tenant "
            f"than {authorization.initial_domain}. Enter the default domain of the tenant that owns "
            f"{authorization.initial_domain}."
        )
    proof = authorization.ownership_proof
    if proof != TenantAuthorization.OwnershipProof.STAFF_DECISION:
        others = TenantHolding.objects.filter(tenant_id=tenant).exclude(
            organization_id=authorization.organization_id
        )
        if others.exists():
            return (
                "The authorization has not been completed yet. This Microsoft tenant is already held by another "
                f"organisation on this storefront. Ask {CloudServicesSettings.load().distributor_name} to confirm "
                "that it is yours."
            )
    if (
        authorization.kind == TenantAuthorization.Kind.DIRECT
        and authorization.tenant_was_customer is not False
        and not proof
    ):
        return (
            "The authorization has not been completed yet. This tenant was already a customer of "
            f"{CloudServicesSettings.load().distributor_name} before you asked, so accepting the link does not "
            "show that it is yours. Ask the tenant's administrator to select Sign in with Microsoft below, or ask "
            "us to confirm it."
        )
    return None


def tenants_held_by(*, organization_id: int) -> list[str]:
    return list(
        TenantHolding.objects.filter(organization_id=organization_id).values_list("tenant_id", flat=True)
    )


# End-customers ---------------------------------------------------------------------------------------------------


def end_customer_owned_require(*, organization_id: int, end_customer_id: int) -> int:
    """The end-customer's id when it is one of the organisation's; anything else reads as unknown."""
    exists = apps.get_model("customers", "EndCustomer").objects.filter(
        pk=end_customer_id, reseller_id=organization_id
    )
    if not exists.exists():
        raise InvalidInput("Choose one of your customers.", field="end_customer")
    return end_customer_id


def order_authorization_require(
    *, organization_id: int, authorization_id: int, end_customer_id: int | None
) -> TenantAuthorization:
    """The authorization an existing-tenant order names: the organisation's own, for the same end-customer."""
    authorization = TenantAuthorization.objects.filter(
        pk=authorization_id, organization_id=organization_id
    ).first()
    if authorization is None:
        raise InvalidInput("Unknown authorization.", field="authorization")
    if authorization.end_customer_id and authorization.end_customer_id != end_customer_id:
        raise EndCustomerMismatch(
            "This authorization was given for another of your customers: order for that customer, or ask this "
            "customer to authorize you.",
            field="end_customer",
        )
    return authorization


def order_trust_problem(*, order) -> str | None:
    """The worker's own check before it asks Microsoft anything for an order, whoever created the row."""
    if order.partner_mpn_id and not mpn_id_is_owned(
        organization_id=order.organization_id, mpn_id=order.partner_mpn_id
    ):
        return f"MPN ID {order.partner_mpn_id} is not one of the ordering organisation's."
    if order.tenant != "existing":
        return None
    authorization = order.authorization
    if (
        authorization is None
        or authorization.organization_id != order.organization_id
        or not authorization.is_verified
        or (authorization.end_customer_id and authorization.end_customer_id != order.end_customer_id)
        or (authorization.customer_tenant_id or "").lower() != (order.customer_tenant_id or "").lower()
    ):
        return "The order's tenant authorization does not belong to this order's organisation and customer."
    if not organization_holds_tenant(
        organization_id=order.organization_id, tenant_id=order.customer_tenant_id
    ):
        return "The ordering organisation does not hold this Microsoft tenant."
    return None


def buyer_mpn_id_check(*, organization_id: int, mpn_id: str, fresh: bool = False) -> MpnCheck:
    """The on-blur check of a buyer's MPN ID: another organisation's ID is refused before the network is asked,
    and nothing about it is revealed. Without `fresh`, ownership is read as pages show it (`mpn_id_shown_as_owned`)."""
    value = normalize_mpn_id(mpn_id)
    owned = mpn_id_is_owned if fresh else mpn_id_shown_as_owned
    if not owned(organization_id=organization_id, mpn_id=value):
        return MpnCheck(value, False, "", "", MPN_NOT_YOURS_MESSAGE, owned=False)
    return mpn_id_check(mpn_id=value, fresh=fresh)
