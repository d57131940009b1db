"""In-memory store of the sandbox: Microsoft's tenants, the distributor's network and what clients created.

Everything lives behind one re-entrant lock; the HTTP layer holds it for the whole of a request's handling,
so handlers can read and write freely. Seed values follow docs/demo-data.md exactly.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

DISTRIBUTOR_NAME = "Northwind Distribution"
DISTRIBUTOR_TENANT_ID = "d1570b00-0000-4000-8000-000000000001"
DISTRIBUTOR_MPN_ID = "5123456"
MCA_TEMPLATE_ID = "117a77b0-9360-443b-8795-c6dedc750cf9"
GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PREFIX_RE = re.compile(r"^[a-z0-9]{1,27}$")
ONMICROSOFT = ".onmicrosoft.com"


def now_iso() -> str:
    """UTC timestamp in the ISO form Microsoft returns (with a Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


class SandboxError(Exception):
    """A business error; the HTTP layer renders it in the shape of the host that was called."""

    def __init__(self, status: int, message: str, code: int | str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else status


@dataclass
class Reseller:
    tenant_id: str
    mpn_id: str
    name: str
    in_network: bool
    mpa_signed: bool
    location: str = "US"


@dataclass
class Tenant:
    tenant_id: str
    initial_domain: str
    default_domain: str
    company_name: str

    @property
    def domains(self) -> set[str]:
        return {self.initial_domain.lower(), self.default_domain.lower()}


@dataclass
class Customer:
    tenant_id: str
    billing_profile: dict[str, Any]
    created_via: str
    created_at: str
    reseller_ids: list[str] = field(default_factory=list)
    associated_partner_id: str | None = None
    agreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mca_accepted(self) -> bool:
        return any(a.get("type") == "MicrosoftCustomerAgreement" for a in self.agreements)


SEED_RESELLERS = [
    Reseller("22222222-2222-4222-8222-222222222222", "1234567", "Fabrikam IT Services", True, True),
    Reseller("22222222-2222-4222-8222-333333333333", "2345678", "Adatum Cloud Partners", True, True),
    Reseller("22222222-2222-4222-8222-444444444444", "3456789", "Litware Solutions", True, False),
    Reseller("22222222-2222-4222-8222-555555555555", "4567890", "Tailspin Consulting", False, True),
]

SEED_TENANTS = [
    Tenant("33333333-3333-4333-8333-000000000001", "contoso.onmicrosoft.com", "contoso.com", "Contoso Ltd"),
    Tenant(
        "33333333-3333-4333-8333-000000000002",
        "wingtiptoys.onmicrosoft.com",
        "wingtiptoys.com",
        "Wingtip Toys",
    ),
    Tenant(
        "33333333-3333-4333-8333-000000000003",
        "litwareinc.onmicrosoft.com",
        "litwareinc.onmicrosoft.com",
        "Litware Inc",
    ),
    Tenant(
        "33333333-3333-4333-8333-000000000004",
        "woodgrove.onmicrosoft.com",
        "woodgrovebank.com",
        "Woodgrove Bank",
    ),
    Tenant(
        "33333333-3333-4333-8333-000000000005",
        "alpineskihouse.onmicrosoft.com",
        "alpineskihouse.com",
        "Alpine Ski House",
    ),
]
# alpineskihouse accepted the indirect invitation of Fabrikam before the sandbox started.
SEED_CUSTOMERS = [("33333333-3333-4333-8333-000000000005", "22222222-2222-4222-8222-222222222222")]

DEFAULT_CONFIG: dict[str, Any] = {
    "relationships_page_size": 2,
    "customers_default_page_size": 100,
    "customers_max_page_size": 500,
    "order_completion_seconds": 0.0,
    "gdap_assignment_activation_seconds": 0.0,
    "base_latency_ms": 0,
    "webhook_certificate_url": None,
    # Bumping it reissues every availability id, as Microsoft does regularly.
    "catalog_generation": 0,
    # False: the future price list answers 404 (next month brings no change).
    "price_list_future": True,
}
FAULT_KINDS = ("reset", "throttle", "fail", "malformed", "timeout")


@dataclass
class FaultDecision:
    latency_ms: int = 0
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class SandboxState:
    """The whole of the sandbox's world; `reset()` brings it back to the seeded demo state."""

    def __init__(self, **config: Any) -> None:
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise TypeError(f"unknown sandbox options: {sorted(unknown)}")
        self.lock = threading.RLock()
        self._initial_config = {**DEFAULT_CONFIG, **config}
        # Issued tokens survive a reset so running clients keep working across test cases.
        self.tokens: dict[str, float] = {}
        self.token_audiences: dict[str, str] = {}
        self.refresh_tokens: set[str] = set()
        # Authorization codes from the sign-in page, single use, kept across resets like the tokens.
        self.auth_codes: dict[str, dict[str, Any]] = {}
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to docs/demo-data.md; forgets everything clients created, faults and counters."""
        with self.lock:
            self.config: dict[str, Any] = dict(self._initial_config)
            self.resellers: dict[str, Reseller] = {r.tenant_id: copy.copy(r) for r in SEED_RESELLERS}
            self.tenants: dict[str, Tenant] = {}
            self.domain_index: dict[str, str] = {}
            for seed in SEED_TENANTS:
                self.register_tenant(copy.copy(seed))
            self.customers: dict[str, Customer] = {}
            self.carts: dict[str, dict[str, Any]] = {}
            self.orders: dict[str, dict[str, Any]] = {}
            # Licences bought per (customer, product, SKU): small-business seat caps are pooled across partners.
            self.seat_usage: dict[tuple[str, str, str], int] = {}
            self.gdap: dict[str, dict[str, Any]] = {}
            self.webhook_registration: dict[str, Any] | None = None
            self.webhook_deliveries: list[dict[str, Any]] = []
            self.idempotency: dict[tuple[str, str], tuple[int, Any]] = {}
            self.request_counts: Counter[str] = Counter()
            self.request_log: deque[dict[str, Any]] = deque(maxlen=1000)
            self.faults: dict[str, Any] = {}
            for tenant_id, reseller_id in SEED_CUSTOMERS:
                customer = self._new_customer_from_tenant(self.tenants[tenant_id], "seed")
                customer.reseller_ids.append(reseller_id)

    # -- lookups -------------------------------------------------------------------------------------------

    def tenant_by_domain(self, domain: str) -> Tenant | None:
        tenant_id = self.domain_index.get(domain.strip().lower())
        return self.tenants.get(tenant_id) if tenant_id else None

    def register_tenant(self, tenant: Tenant) -> Tenant:
        """Every tenant goes through here, so looking one up by domain stays O(1) at benchmark sizes."""
        self.tenants[tenant.tenant_id] = tenant
        for domain in tenant.domains:
            self.domain_index[domain] = tenant.tenant_id
        return tenant

    def resolve_tenant_id(self, domain_or_id: str) -> str | None:
        """Tenant id for a domain or id known to sign-in (customers' tenants, partners, the distributor)."""
        value = domain_or_id.strip().lower()
        if GUID_RE.match(value):
            known = {DISTRIBUTOR_TENANT_ID, *self.tenants, *self.resellers}
            return value if value in known else None
        tenant = self.tenant_by_domain(value)
        return tenant.tenant_id if tenant else None

    def reseller_by_mpn(self, mpn_id: str) -> Reseller | None:
        return next((r for r in self.resellers.values() if r.mpn_id == mpn_id), None)

    def network(self) -> list[Reseller]:
        return [r for r in self.resellers.values() if r.in_network]

    def partner_name(self, tenant_id: str) -> str:
        if tenant_id == DISTRIBUTOR_TENANT_ID:
            return DISTRIBUTOR_NAME
        reseller = self.resellers.get(tenant_id)
        return reseller.name if reseller else tenant_id

    # -- tenants -------------------------------------------------------------------------------------------

    def add_tenant(
        self, domain_prefix: str, default_domain: str | None = None, company_name: str | None = None
    ) -> Tenant:
        """An existing Microsoft tenant that has no relationship with the distributor (for tests)."""
        prefix = (domain_prefix or "").strip().lower()
        if prefix.endswith(ONMICROSOFT):
            prefix = prefix[: -len(ONMICROSOFT)]
        if not PREFIX_RE.match(prefix):
            raise SandboxError(400, "domain_prefix must be 1 to 27 letters a-z or digits")
        initial = prefix + ONMICROSOFT
        default = (default_domain or initial).strip().lower()
        for domain in {initial, default}:
            if self.tenant_by_domain(domain):
                raise SandboxError(409, f"domain {domain} already belongs to a tenant")
        return self.register_tenant(Tenant(new_id(), initial, default, company_name or prefix.capitalize()))

    def add_tenants_bulk(self, count: int, prefix: str) -> list[Tenant]:
        """Many fresh tenants `<prefix><n>` for benchmarks, numbered after any already taken."""
        created: list[Tenant] = []
        index = 1
        while len(created) < count:
            name = f"{prefix}{index}"
            index += 1
            if self.tenant_by_domain(name + ONMICROSOFT):
                continue
            created.append(self.add_tenant(name))
        return created

    # -- customers -----------------------------------------------------------------------------------------

    def customer_found(self, customer_id: str) -> Customer:
        """The distributor's customer, or Partner Center's 404 (600008) for any other id."""
        customer = self.customers.get(customer_id.lower())
        if customer is None:
            raise SandboxError(
                404, f"Customer {customer_id} was not found for partner {DISTRIBUTOR_TENANT_ID}.", 600008
            )
        return customer

    def _new_customer_from_tenant(self, tenant: Tenant, created_via: str) -> Customer:
        """A tenant joins the distributor's customer list; acceptance in the portal includes the MCA."""
        customer = Customer(
            tenant_id=tenant.tenant_id,
            billing_profile={
                "id": new_id(),
                "email": f"admin@{tenant.initial_domain}",
                "culture": "en-US",
                "language": "en",
                "companyName": tenant.company_name,
                "defaultAddress": {},
            },
            created_via=created_via,
            created_at=now_iso(),
        )
        customer.agreements.append(
            {
                "templateId": MCA_TEMPLATE_ID,
                "type": "MicrosoftCustomerAgreement",
                "dateAgreed": customer.created_at,
                "primaryContact": {"email": f"admin@{tenant.initial_domain}"},
                "source": created_via,
            }
        )
        self.customers[tenant.tenant_id] = customer
        return customer

    def accept_relationship(
        self, domain: str, reseller_tenant_id: str | None = None
    ) -> tuple[Tenant, Customer, Reseller | None]:
        """What the customer's admin does in the portal: the distributor (and the reseller) become its CSP."""
        tenant = self.tenant_by_domain(domain) if domain else None
        if tenant is None:
            raise SandboxError(404, f"No Microsoft tenant uses the domain '{domain}'.", 600008)
        reseller = None
        if reseller_tenant_id:
            reseller = self.resellers.get(reseller_tenant_id.lower())
            if reseller is None or not reseller.in_network:
                raise SandboxError(
                    400,
                    f"Partner {reseller_tenant_id} is not an indirect reseller of {DISTRIBUTOR_NAME}.",
                    800016,
                )
        customer = self.customers.get(tenant.tenant_id) or self._new_customer_from_tenant(tenant, "accepted")
        if reseller and reseller.tenant_id not in customer.reseller_ids:
            customer.reseller_ids.append(reseller.tenant_id)
        return tenant, customer, reseller

    # -- tokens --------------------------------------------------------------------------------------------

    def issue_tokens(self, audience: str = "https://api.partnercenter.microsoft.com") -> tuple[str, str]:
        access = "sandbox-" + secrets.token_urlsafe(24)
        refresh = "sandbox-rt-" + secrets.token_urlsafe(24)
        self.tokens[access] = time.time() + 3600
        self.token_audiences[access] = audience
        self.refresh_tokens.add(refresh)
        return access, refresh

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    # -- faults --------------------------------------------------------------------------------------------

    def set_faults(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault plan; counts are consumed by the next matching requests."""
        faults: dict[str, Any] = {}
        if spec.get("latency_ms"):
            faults["latency_ms"] = int(spec["latency_ms"])
        for kind in FAULT_KINDS:
            entry = spec.get(kind)
            if entry:
                if not isinstance(entry, dict):
                    raise SandboxError(400, f"{kind} must be an object with a count")
                faults[kind] = {**entry, "count": int(entry.get("count", 1))}
        if spec.get("path_contains"):
            faults["path_contains"] = str(spec["path_contains"])
        self.faults = faults
        return faults

    def take_fault(self, target: str, default_scope: bool, microsoft: bool) -> FaultDecision:
        """Decide latency and at most one fault for a request, consuming one count.

        The base latency is the network's: every host that plays Microsoft (Partner Center, Graph, sign-in,
        portal) answers after it; faults without `path_contains` hit only Partner Center and Graph."""
        decision = FaultDecision(latency_ms=int(self.config.get("base_latency_ms") or 0) if microsoft else 0)
        faults = self.faults
        if not faults:
            return decision
        path_contains = faults.get("path_contains")
        if path_contains:
            if path_contains not in target:
                return decision
            if target.startswith("/_sandbox") and not path_contains.startswith("/_sandbox"):
                return decision
        elif not default_scope:
            return decision
        decision.latency_ms += int(faults.get("latency_ms") or 0)
        for kind in FAULT_KINDS:
            entry = faults.get(kind)
            if entry and entry["count"] > 0:
                entry["count"] -= 1
                decision.action = kind
                decision.params = entry
                break
        return decision

    # -- reporting -----------------------------------------------------------------------------------------

    def record_request(self, endpoint: str, method: str, target: str, request_id: str | None) -> None:
        self.request_counts[endpoint] += 1
        self.request_log.append(
            {"at": now_iso(), "method": method, "target": target, "ms_request_id": request_id}
        )

    def count(self, endpoint: str) -> int:
        """Requests received for an endpoint name such as 'POST /v1/customers'."""
        with self.lock:
            return self.request_counts[endpoint]

    def summary(self) -> dict[str, Any]:
        """The JSON served by GET /_sandbox/state."""
        with self.lock:
            return {
                "distributor": {
                    "name": DISTRIBUTOR_NAME,
                    "tenant_id": DISTRIBUTOR_TENANT_ID,
                    "mpn_id": DISTRIBUTOR_MPN_ID,
                },
                "counts": {
                    "tenants": len(self.tenants),
                    "customers": len(self.customers),
                    "relationships": sum(len(c.reseller_ids) for c in self.customers.values()),
                    "carts": len(self.carts),
                    "orders": len(self.orders),
                    "gdap": len(self.gdap),
                    "webhook_deliveries": len(self.webhook_deliveries),
                },
                "resellers": [asdict(r) for r in self.resellers.values()],
                "tenants": [asdict(t) for t in self.tenants.values()],
                "customers": [
                    {
                        "tenant_id": c.tenant_id,
                        "domain": self.tenants[c.tenant_id].initial_domain,
                        "company_name": self.tenants[c.tenant_id].company_name,
                        "created_via": c.created_via,
                        "reseller_ids": list(c.reseller_ids),
                        "mca_accepted": c.mca_accepted,
                    }
                    for c in self.customers.values()
                ],
                "relationships": [
                    {"customer_tenant_id": c.tenant_id, "reseller_tenant_id": r}
                    for c in self.customers.values()
                    for r in c.reseller_ids
                ],
                "carts": [
                    {"id": c["id"], "customer_id": c["_customer_id"], "status": c["status"]}
                    for c in self.carts.values()
                ],
                "orders": [
                    {"id": o["id"], "customer_id": o["referenceCustomerId"], "status": o["status"]}
                    for o in self.orders.values()
                ],
                "gdap": [
                    {"id": g["id"], "displayName": g["displayName"], "status": g["status"]}
                    for g in self.gdap.values()
                ],
                "webhook_registration": self.webhook_registration,
                "webhook_deliveries": list(self.webhook_deliveries),
                "request_counts": dict(self.request_counts),
                "faults": self.faults,
                "config": self.config,
            }
