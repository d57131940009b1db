"""The Microsoft CSP rules' error codes, shared by the pages and the REST API (the base is `common.errors`)."""

from common.errors import StorefrontError


class DomainTaken(StorefrontError):
    code = "domain_taken"
    status = 409


class MpnNotInNetwork(StorefrontError):
    code = "mpn_not_in_network"


class AuthorizationNotVerified(StorefrontError):
    code = "authorization_not_verified"
    status = 409


class BillingAddressRequired(StorefrontError):
    code = "billing_address_required"


class PartnerCenterUnavailable(StorefrontError):
    code = "partner_center_unavailable"
    status = 503


class MpnNotYours(StorefrontError):
    code = "mpn_id_not_yours"
    status = 403


class NoTenantForDomain(StorefrontError):
    code = "no_tenant_for_domain"


class TenantHeldByAnotherOrganization(StorefrontError):
    code = "tenant_held_by_another_organization"
    status = 409


class EndCustomerMismatch(StorefrontError):
    code = "end_customer_mismatch"


class GdapRequestOpen(StorefrontError):
    """One open GDAP request per tenant and role template at a time."""

    code = "gdap_request_open"
    status = 409
