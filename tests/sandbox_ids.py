"""The sandbox's demo ids (docs/demo-data.md), taken from the sandbox's own seed data: one place for every test.

Resellers (tenant id, MPN ID): Fabrikam is in the network with the agreement signed, Adatum too, Litware is in
the network without the agreement, Tailspin is outside the network. Tenants: Contoso, Wingtip Toys, Litware Inc,
Woodgrove Bank, Alpine Ski House (the last already Fabrikam's customer).
"""

from csp.sandbox.state import (
    DISTRIBUTOR_MPN_ID,
    DISTRIBUTOR_TENANT_ID,
    MCA_TEMPLATE_ID,
    SEED_RESELLERS,
    SEED_TENANTS,
)

_RESELLERS = {reseller.name.split()[0].lower(): reseller for reseller in SEED_RESELLERS}
_TENANTS = {tenant.initial_domain.split(".")[0]: tenant.tenant_id for tenant in SEED_TENANTS}

FABRIKAM_TENANT = _RESELLERS["fabrikam"].tenant_id
FABRIKAM_MPN = _RESELLERS["fabrikam"].mpn_id
ADATUM_TENANT = _RESELLERS["adatum"].tenant_id
ADATUM_MPN = _RESELLERS["adatum"].mpn_id
LITWARE_TENANT = _RESELLERS["litware"].tenant_id
NO_AGREEMENT_MPN = _RESELLERS["litware"].mpn_id
TAILSPIN_TENANT = _RESELLERS["tailspin"].tenant_id
OUTSIDE_MPN = _RESELLERS["tailspin"].mpn_id

CONTOSO_TENANT = _TENANTS["contoso"]
WINGTIP_TENANT = _TENANTS["wingtiptoys"]
LITWAREINC_TENANT = _TENANTS["litwareinc"]
WOODGROVE_TENANT = _TENANTS["woodgrove"]
ALPINE_TENANT = _TENANTS["alpineskihouse"]

__all__ = [
    "ADATUM_MPN",
    "ADATUM_TENANT",
    "ALPINE_TENANT",
    "CONTOSO_TENANT",
    "DISTRIBUTOR_MPN_ID",
    "DISTRIBUTOR_TENANT_ID",
    "FABRIKAM_MPN",
    "FABRIKAM_TENANT",
    "LITWAREINC_TENANT",
    "LITWARE_TENANT",
    "MCA_TEMPLATE_ID",
    "NO_AGREEMENT_MPN",
    "OUTSIDE_MPN",
    "TAILSPIN_TENANT",
    "WINGTIP_TENANT",
    "WOODGROVE_TENANT",
]
