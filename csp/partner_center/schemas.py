"""Typed values passed in and out of the Partner Center client, so callers never handle raw JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

PARTNER_CENTER_URL = "https://api.partnercenter.microsoft.com"
PARTNER_SALES_URL = "https://api.partner.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com"
ADMIN_PORTAL_URL = "https://admin.microsoft.com"

Mode = Literal["sandbox", "live"]

# Microsoft's rule for the prefix of a new tenant's `<prefix>.onmicrosoft.com` (the client refuses others before
# any call; `csp/domains.py` says the same rule in the buyer's terms).
MAX_PREFIX_LENGTH = 27
PREFIX_PATTERN = re.compile(r"^[a-z0-9]{1,27}$")


@dataclass(frozen=True, kw_only=True)
class PartnerCenterConfig:
    """Where and as whom to reach Microsoft; sandbox, production and sovereign clouds are configuration."""

    mode: Mode = "sandbox"
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    api_url: str = PARTNER_CENTER_URL
    login_url: str = LOGIN_URL
    graph_url: str = GRAPH_URL
    sales_api_url: str = PARTNER_SALES_URL
    timeout: float = 30.0
    max_retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    # Someone waiting on a page is kept at most this long between attempts, in all: a Retry-After that does not
    # fit is answered at once (a transient error carrying it), so no page waits minutes for Microsoft.
    max_wait: float = 10.0
    application_name: str = "CSP Storefront"
    # None: Microsoft's blob store in live mode, the sandbox's own /cert/ in sandbox mode.
    webhook_certificate_url_prefix: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("sandbox", "live"):
            raise ValueError(f"mode must be 'sandbox' or 'live', not {self.mode!r}")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        for name in ("api_url", "login_url", "graph_url", "sales_api_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))

    @classmethod
    def for_sandbox(
        cls,
        base_url: str = "http://127.0.0.1:8765",
        *,
        tenant_id: str = "d1570b00-0000-4000-8000-000000000001",
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 (demo value)
        **options: Any,
    ) -> PartnerCenterConfig:
        """The sandbox serves all three Microsoft hosts at its root, so one base URL is enough."""
        return cls(
            mode="sandbox",
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            api_url=base_url,
            login_url=base_url,
            graph_url=base_url,
            sales_api_url=base_url,
            **options,
        )


@dataclass(frozen=True)
class AgreementStatus:
    """A reseller's Microsoft Partner Agreement status; `code` and `message` say why when it is not signed."""

    signed: bool
    code: str | None = None
    message: str = ""


@dataclass(frozen=True)
class CallRecord:
    """One change made at Microsoft (or attempted), handed to the recorder for the audit trail."""

    operation: str
    method: str
    path: str
    request_id: str
    correlation_id: str
    status: int | None
    duration_ms: int
    error_code: int | str | None = None
    error_description: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PageLink:
    """A `links.next` entry to replay as-is, including headers such as MS-ContinuationToken."""

    uri: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DomainAvailability:
    domain_prefix: str
    domain: str
    available: bool
    tenant_id: str | None = None


@dataclass(frozen=True)
class RelationshipRequestLink:
    url: str


@dataclass(frozen=True)
class IndirectReseller:
    tenant_id: str
    name: str
    mpn_id: str
    state: str
    location: str | None = None


@dataclass(frozen=True)
class Customer:
    tenant_id: str
    domain: str
    company_name: str
    relationship_to_partner: str | None = None
    associated_partner_id: str | None = None


@dataclass(frozen=True)
class CustomerPage:
    items: tuple[Customer, ...]
    next: PageLink | None = None


@dataclass(frozen=True)
class PartnerRelationship:
    tenant_id: str
    name: str
    relationship_type: str
    mpn_id: str | None = None


@dataclass(frozen=True)
class Address:
    """A postal address as Partner Center names its parts; `region` is rarely used outside a few countries."""

    country: str
    city: str
    state: str | None = None
    address_line1: str = ""
    address_line2: str | None = None
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class AddressValidation:
    """`status` is Microsoft's word: Verified, VerifiedShippable, InteractionRequired, StreetPartial, ..."""

    status: str
    suggested_addresses: tuple[Address, ...]
    message: str | None
    original: Address | None

    @property
    def verified(self) -> bool:
        return self.status in ("Verified", "VerifiedShippable")


@dataclass(frozen=True)
class NewCustomer:
    """What create-customer needs; `domain` is the full `<prefix>.onmicrosoft.com`."""

    domain: str
    company_name: str
    email: str
    first_name: str
    last_name: str
    address: Address
    phone_number: str | None = None
    culture: str = "en-US"
    language: str = "en"
    associated_partner_id: str | None = None
    organization_registration_number: str | None = None


@dataclass(frozen=True)
class CreatedCustomer:
    """The new tenant; the admin password is shown to the buyer once and must never be logged."""

    tenant_id: str
    domain: str
    company_name: str
    admin_user_name: str | None
    admin_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AgreementContact:
    first_name: str
    last_name: str
    email: str
    phone_number: str | None = None


@dataclass(frozen=True)
class CartLine:
    """One cart line; `partner_id_on_record` is the indirect reseller's MPN ID, never the distributor's."""

    catalog_item_id: str
    quantity: int
    billing_cycle: str = "monthly"
    term_duration: str | None = "P1Y"
    partner_id_on_record: str | None = None
    attestation_accepted: bool = False


@dataclass(frozen=True)
class CartLineError:
    """Microsoft's objection to one cart line; `available_quantity` is set when a seat cap was reached."""

    line_id: int | None
    code: int | str | None
    description: str | None
    available_quantity: int | None = None


@dataclass(frozen=True)
class Cart:
    id: str
    status: str | None
    line_errors: tuple[CartLineError, ...] = ()


# -- catalog ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogSku:
    """A SKU of a product: seat limits, trial flag and whether the cart line must carry an attestation."""

    id: str
    product_id: str
    title: str
    description: str
    minimum_quantity: int | None
    maximum_quantity: int | None
    is_trial: bool
    supported_billing_cycles: tuple[str, ...]
    enforce_attestation: bool


@dataclass(frozen=True)
class AvailabilityTerm:
    duration: str
    billing_cycle: str
    description: str | None


@dataclass(frozen=True)
class Availability:
    """Today's purchasable form of a SKU; its id is reissued by Microsoft, so it is resolved when ordering."""

    id: str
    product_id: str
    sku_id: str
    catalog_item_id: str
    segment: str | None
    country: str | None
    currency: str | None
    is_purchasable: bool
    terms: tuple[AvailabilityTerm, ...]

    def allows(self, term_duration: str, billing_cycle: str) -> bool:
        """Whether this availability sells the (term, billing cycle) pair."""
        return any(
            t.duration.upper() == term_duration.upper() and t.billing_cycle.lower() == billing_cycle.lower()
            for t in self.terms
        )


@dataclass(frozen=True)
class PartnerOrderLine:
    """One line of a Microsoft order: the subscription it created and the partner of record Microsoft kept."""

    offer_id: str | None
    subscription_id: str | None
    quantity: int | None
    partner_id_on_record: str | None


@dataclass(frozen=True)
class PartnerOrder:
    id: str
    status: str | None
    line_items: tuple[PartnerOrderLine, ...] = ()


@dataclass(frozen=True)
class OrderError:
    code: int | str | None
    description: str | None


@dataclass(frozen=True)
class CheckoutResult:
    """A 201 checkout can still hold partial failures in `errors`."""

    orders: tuple[PartnerOrder, ...]
    errors: tuple[OrderError, ...]


@dataclass(frozen=True)
class GdapRelationship:
    id: str
    status: str
    etag: str | None = None
    end_date_time: datetime | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class GdapAccessAssignment:
    """Roles given to one of the partner's security groups in a relationship; `pending` until Microsoft applies it."""

    id: str
    status: str
    security_group_id: str | None = None
    role_definition_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebhookRegistration:
    url: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class WebhookEvent:
    """A delivered webhook; only a hint to re-check with Partner Center, never proof by itself."""

    event_name: str
    resource_uri: str | None
    resource_name: str | None
    audit_uri: str | None
    resource_change_utc_date: datetime | None
