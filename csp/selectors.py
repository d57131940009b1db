"""Reads of CSP state, scoped to the organisation asking."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from csp.models import CloudServicesSettings, IndirectReseller, TenantAuthorization


def distributor_name() -> str:
    return CloudServicesSettings.load().distributor_name


def network_reseller_by_mpn_id(mpn_id: str) -> IndirectReseller | None:
    return IndirectReseller.objects.filter(mpn_id=mpn_id).order_by("-refreshed_at").first()


def tenant_authorizations_for(*, organization_id: int) -> QuerySet[TenantAuthorization]:
    return TenantAuthorization.objects.filter(organization_id=organization_id).select_related("end_customer")


def tenant_authorization_get(*, organization_id: int, authorization_id: int) -> TenantAuthorization:
    """Another organisation's authorization answers 404, as if it did not exist."""
    return get_object_or_404(tenant_authorizations_for(organization_id=organization_id), pk=authorization_id)
