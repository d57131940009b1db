"""Partner Center host (api.partnercenter.microsoft.com): the /v1 endpoints the storefront uses, and webhooks.

The signed-in partner is always the distributor. Shapes, codes and statuses follow partner-center-api.md.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from csp.sandbox import catalog, webhooks
from csp.sandbox.state import (
    DISTRIBUTOR_MPN_ID,
    DISTRIBUTOR_NAME,
    DISTRIBUTOR_TENANT_ID,
    GUID_RE,
    MCA_TEMPLATE_ID,
    ONMICROSOFT,
    PREFIX_RE,
    Customer,
    Reseller,
    SandboxError,
    Tenant,
    new_id,
    now_iso,
)
from csp.sandbox.web import PARTNER_CENTER, Request, Response, Route, empty, json_response

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp

INVITATION_FRAGMENT = "#/BillingAccounts/partner-invitation"
WEBHOOK_EVENTS = [
    "test-created",
    "reseller-relationship-accepted-by-customer",
    "indirect-reseller-relationship-accepted-by-customer",
    "granular-admin-relationship-approved",
    "granular-admin-relationship-activated",
]
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
    ]
)
CA_PROVINCES = frozenset(["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"])
CATALOG_ITEM_RE = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9]+:[A-Za-z0-9]+$")
TERM_DURATIONS = {"P1M", "P1Y", "P3Y"}
BILLING_CYCLES = {"monthly", "annual", "triennial", "biennial", "one_time", "none"}


# -- helpers -------------------------------------------------------------------------------------------------


def ci(data: Any, key: str, default: Any = None) -> Any:
    """Case-insensitive field lookup: Microsoft accepts PascalCase and camelCase bodies alike."""
    if not isinstance(data, dict):
        return default
    lowered = key.lower()
    for k, v in data.items():
        if k.lower() == lowered:
            return v
    return default


def collection(items: list[Any], links: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"totalCount": len(items), "items": items}
    if links:
        body["links"] = links
    body["attributes"] = {"objectType": "Collection"}
    return body


def link(uri: str, headers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"uri": uri, "method": "GET", "headers": headers or []}


def paginate(
    req: Request, items: list[Any], size: int, uri_path: str, keep: dict[str, str]
) -> dict[str, Any]:
    """One page plus links.next carrying an MS-ContinuationToken, like GET /customers does."""
    offset = 0
    if req.query.get("seekoperation", "").lower() == "next":
        token = req.header("MS-ContinuationToken")
        if not token:
            raise SandboxError(400, "MS-ContinuationToken header is required with seekOperation=Next.", 2000)
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SandboxError(400, "The continuation token is invalid or has expired.", 2000) from exc
    page = items[offset : offset + size]
    self_query = urlencode(keep)
    links: dict[str, Any] = {"self": link(f"{uri_path}?{self_query}" if self_query else uri_path)}
    if offset + size < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
        next_query = urlencode({**keep, "seekOperation": "Next"})
        # Like Microsoft's get-a-list-of-customers sample, link URIs are host-relative ("/v1/...").
        links["next"] = link(f"{uri_path}?{next_query}", [{"key": "MS-ContinuationToken", "value": token}])
    return collection(page, links)


def parse_filter(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return {"field": str(data["Field"]), "value": str(data["Value"]), "operator": str(data["Operator"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(400, "The filter is not valid JSON with Field, Value and Operator.", 2000) from exc


def remember(app: SandboxApp, operation: str, req: Request, status: int, body: Any) -> Response:
    """Store a successful create for its MS-RequestId, so a retry with the same id gets the same answer."""
    if req.request_id:
        app.state.idempotency[(operation, req.request_id.lower())] = (status, body)
    return json_response(status, body)


def replay(app: SandboxApp, operation: str, req: Request) -> Response | None:
    if not req.request_id:
        return None
    stored = app.state.idempotency.get((operation, req.request_id.lower()))
    return json_response(stored[0], stored[1]) if stored else None


def relationship_item(reseller: Reseller, relationship_type: str) -> dict[str, Any]:
    return {
        "id": reseller.tenant_id,
        "name": reseller.name,
        "relationshipType": relationship_type,
        "state": "Active",
        "mpnId": reseller.mpn_id,
        "location": reseller.location,
        "attributes": {"objectType": "PartnerRelationship"},
    }


def customer_json(app: SandboxApp, customer: Customer, full: bool = False) -> dict[str, Any]:
    tenant = app.state.tenants[customer.tenant_id]
    body: dict[str, Any] = {
        "id": tenant.tenant_id,
        "commerceId": tenant.tenant_id,
        "companyProfile": {
            "tenantId": tenant.tenant_id,
            "domain": tenant.initial_domain,
            "companyName": tenant.company_name,
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "relationshipToPartner": "reseller",
        "allowDelegatedAccess": False,
        "links": {"self": link(f"/customers/{tenant.tenant_id}")},
        "attributes": {"objectType": "Customer"},
    }
    if full:
        body["billingProfile"] = {
            **customer.billing_profile,
            "attributes": {"etag": str(hash(customer.created_at)), "objectType": "CustomerBillingProfile"},
        }
        body["customDomains"] = sorted(d for d in tenant.domains if d != tenant.initial_domain.lower())
        if customer.associated_partner_id:
            body["associatedPartnerId"] = customer.associated_partner_id
    return body


def get_customer(app: SandboxApp, customer_id: str) -> Customer:
    return app.state.customer_found(customer_id)


def commerce_customer(app: SandboxApp, customer_id: str) -> Customer:
    """Cart and order operations answer 403 20002 when there is no commerce relationship."""
    customer = app.state.customers.get(customer_id.lower())
    if customer is None:
        raise SandboxError(
            403,
            f"partner id {DISTRIBUTOR_TENANT_ID} has no commerce relationship with customer id {customer_id}",
            20002,
        )
    return customer


# -- domains, invitations, network ---------------------------------------------------------------------------


def domain_exists(app: SandboxApp, req: Request, domain: str) -> Response:
    return empty(200 if app.state.tenant_by_domain(domain) else 404)


def relationship_request(app: SandboxApp, req: Request) -> Response:
    """The invitation link: direct (distributor becomes CSP) or indirect (reseller + distributor)."""
    reseller_id = req.query.get("indirectresellerid", "").strip().lower()
    provider_id = req.query.get("indirectcloudsolutionproviderid", "").strip().lower()
    portal = f"{req.base_url}/Adminportal/Home"
    if not reseller_id:
        params = {
            "invType": "ResellerRelationship",
            "partnerId": DISTRIBUTOR_TENANT_ID,
            "msppId": "0",
            "DAP": "false",
        }
    else:
        if not GUID_RE.match(reseller_id):
            raise SandboxError(400, "indirectResellerId must be a tenant id (GUID).", 2000)
        if provider_id and provider_id != DISTRIBUTOR_TENANT_ID:
            raise SandboxError(
                400, "indirectCloudSolutionProviderId must be the signed-in partner's tenant.", 2000
            )
        reseller = app.state.resellers.get(reseller_id)
        if reseller is None:
            raise SandboxError(404, f"Partner with tenant id {reseller_id} could not be found.", 3000)
        if not reseller.in_network:
            raise SandboxError(
                400, f"{reseller_id} is not an indirect reseller of {DISTRIBUTOR_NAME}.", 800016
            )
        params = {
            "invType": "IndirectResellerRelationship",
            "partnerId": reseller.tenant_id,
            "msppId": reseller.mpn_id,
            "indirectCSPId": DISTRIBUTOR_TENANT_ID,
            "DAP": "false",
        }
    url = f"{portal}?{urlencode(params)}{INVITATION_FRAGMENT}"
    return json_response(200, {"url": url, "attributes": {"objectType": "RelationshipRequest"}})


def relationships(app: SandboxApp, req: Request) -> Response:
    """The distributor's indirect resellers, paged so that clients must follow links.next."""
    kind = req.query.get("relationship_type", "")
    flt = parse_filter(req.query.get("filter"))
    if kind.lower() == "isindirectcloudsolutionproviderof":
        resellers = app.state.network()
    elif kind.lower() == "isindirectresellerof":
        resellers = []  # the distributor is nobody's indirect reseller
    else:
        raise SandboxError(
            400, "relationship_type must be IsIndirectCloudSolutionProviderOf or IsIndirectResellerOf.", 2000
        )
    if flt:
        if flt["field"].lower() != "name" or flt["operator"].lower() != "starts_with":
            raise SandboxError(400, "Only Field Name with Operator starts_with is supported.", 2000)
        resellers = [r for r in resellers if r.name.lower().startswith(flt["value"].lower())]
    items = [relationship_item(r, "is_indirect_cloud_solution_provider_of") for r in resellers]
    keep = {"relationship_type": kind}
    if req.query.get("filter"):
        keep["filter"] = req.query["filter"]
    return json_response(
        200, paginate(req, items, app.state.config["relationships_page_size"], "/v1/relationships", keep)
    )


def agreement_status(app: SandboxApp, req: Request) -> Response:
    """MPA status per section 3.2; a partner outside the network still reports its own MPA status."""
    mpn_id = req.query.get("mpnid", "").strip()
    tenant_id = req.query.get("tenantid", "").strip().lower()
    if mpn_id and tenant_id:
        raise SandboxError(400, "Pass either mpnId or tenantId, not both.", 2000)
    if not mpn_id and not tenant_id:
        raise SandboxError(400, "Either mpnId or tenantId is required.", 2001)
    if mpn_id:
        if not mpn_id.isdigit():
            raise SandboxError(400, f"MpnId {mpn_id} is not valid: it must be numeric.", 2000)
        if mpn_id == DISTRIBUTOR_MPN_ID:
            raise SandboxError(400, f"MpnId {mpn_id} has no CSP indirect reseller enrollment.", 2204)
        reseller = app.state.reseller_by_mpn(mpn_id)
        if reseller is None:
            raise SandboxError(
                400,
                f"MpnId {mpn_id} is invalid or not migrated to Partner Center.",
                2200,
            )
        if not reseller.mpa_signed:
            # Microsoft answers the MPN ID form of an unsigned account with 2203 (region-aware), not a 200.
            raise SandboxError(
                400,
                f"MpnId {mpn_id} has a Partner Center account but has not signed the Microsoft Partner "
                "Agreement for this CSP region.",
                2203,
            )
    else:
        if not GUID_RE.match(tenant_id):
            raise SandboxError(400, f"TenantId {tenant_id} is not a valid GUID.", 2000)
        reseller = app.state.resellers.get(tenant_id)
        if reseller is None:
            raise SandboxError(400, f"No Partner Center account was found for tenant id {tenant_id}.", 2205)
    return json_response(200, {"isAgreementSigned": reseller.mpa_signed})


# -- customers -----------------------------------------------------------------------------------------------


def list_customers(app: SandboxApp, req: Request) -> Response:
    flt = parse_filter(req.query.get("filter"))
    customers = list(app.state.customers.values())
    if flt:
        if flt["operator"].lower() != "starts_with":
            raise SandboxError(400, "Only the starts_with operator is supported.", 2000)
        field, value = flt["field"].lower(), flt["value"].lower()
        tenants = app.state.tenants

        def matches(c: Customer) -> bool:
            if field == "domain":
                return tenants[c.tenant_id].initial_domain.lower().startswith(value)
            if field == "companyname":
                return tenants[c.tenant_id].company_name.lower().startswith(value)
            if field == "indirectreseller":
                return any(r.startswith(value) for r in c.reseller_ids)
            if field == "indirectcloudsolutionprovider":
                return DISTRIBUTOR_TENANT_ID.startswith(value)
            raise SandboxError(400, f"Unsupported filter field {flt['field']}.", 2000)

        customers = [c for c in customers if matches(c)]
    config = app.state.config
    try:
        size = int(req.query.get("size") or 0)
    except ValueError as exc:
        raise SandboxError(400, "size must be a number.", 2000) from exc
    size = min(size or config["customers_default_page_size"], config["customers_max_page_size"])
    keep = {"size": str(size)}
    if req.query.get("filter"):
        keep["filter"] = req.query["filter"]
    items = [customer_json(app, c) for c in customers]
    return json_response(200, paginate(req, items, size, "/v1/customers", keep))


def customer_detail(app: SandboxApp, req: Request, customer_id: str) -> Response:
    return json_response(200, customer_json(app, get_customer(app, customer_id), full=True))


def customer_relationships(app: SandboxApp, req: Request, customer_id: str) -> Response:
    customer = get_customer(app, customer_id)
    resellers = [app.state.resellers[r] for r in customer.reseller_ids]
    items = [relationship_item(r, "is_indirect_cloud_solution_provider_of") for r in resellers]
    return json_response(200, collection(items))


def _address_fields(raw: Any) -> dict[str, str]:
    names = [
        "addressLine1",
        "addressLine2",
        "addressLine3",
        "city",
        "state",
        "postalCode",
        "country",
        "region",
    ]
    return {n: str(ci(raw, n)).strip() for n in names if ci(raw, n) not in (None, "")}


def check_address(address: dict[str, str]) -> tuple[str, list[dict[str, str]], str | None]:
    """Status, suggestions and message for an address, following the current 200 shape of section 5.4."""
    country = address.get("country", "").upper()
    missing = [
        label for key, label in (("postalCode", "PostalCode"), ("city", "City")) if not address.get(key)
    ]
    state = address.get("state", "").upper()
    if country == "US" and state and state not in US_STATES:
        missing.insert(0, "Region")
    if country == "CA" and state and state not in CA_PROVINCES:
        missing.insert(0, "Region")
    if (
        country == "US"
        and address.get("postalCode")
        and not re.match(r"^\d{5}(-\d{4})?$", address["postalCode"])
    ):
        missing.append("PostalCode")
    if not address.get("addressLine1"):
        missing.insert(0, "AddressLine1")
    if missing:
        props = ", ".join(f"'{m}'" for m in dict.fromkeys(missing))
        return "None", [], f"Address field invalid for property: {props}"
    suggestion = {k: v for k, v in address.items() if k != "region"}
    suggestion["country"] = country
    if state:
        suggestion["state"] = state
    if country == "US" and not re.match(r"^\d", address["addressLine1"]):
        suggestion["addressLine1"] = "1 " + address["addressLine1"]
        if re.match(r"^\d{5}$", address["postalCode"]):
            suggestion["postalCode"] = address["postalCode"] + "-0001"
        return "StreetPartial", [suggestion], "Address field invalid for property: 'AddressLine1'"
    return "VerifiedShippable", [suggestion], None


def validate_address(app: SandboxApp, req: Request) -> Response:
    data = req.json_object()
    address = _address_fields(data)
    if not address.get("country"):
        raise SandboxError(400, "Country is required.", 2000)
    status, suggestions, message = check_address(address)
    body: dict[str, Any] = {
        "originalAddress": address,
        "suggestedAddresses": suggestions,
        "status": status,
    }
    if message:
        body["validationMessage"] = message
    return json_response(200, body)


def _company_name_problem(name: str) -> str | None:
    """Microsoft's customer data rules (section 14), the common cases."""
    stripped = name.strip()
    if not 1 < len(stripped) < 256:
        return "must be more than one and fewer than 256 characters"
    if not re.search(r"\w", stripped):
        return "cannot be only special characters"
    if re.fullmatch(r"(\w\s+)+\w", stripped):
        return "cannot be single characters separated by spaces"
    if stripped.upper().strip(".") in {"LLC", "INC", "LTD", "CORP", "GMBH", "CO"}:
        return "cannot be only an abbreviation"
    if re.fullmatch(r"(.)\1{2,}", stripped):
        return "cannot be one character repeated"
    return None


def create_customer(app: SandboxApp, req: Request) -> Response:
    """Create a tenant and make it the distributor's customer; idempotent on MS-RequestId."""
    previous = replay(app, "create_customer", req)
    if previous:
        return previous
    data = req.json_object()
    company = ci(data, "companyProfile") or {}
    billing = ci(data, "billingProfile") or {}
    address = ci(billing, "defaultAddress") or {}
    required = {
        "CompanyProfile.Domain": ci(company, "domain"),
        "BillingProfile.Email": ci(billing, "email"),
        "BillingProfile.Culture": ci(billing, "culture"),
        "BillingProfile.Language": ci(billing, "language"),
        "BillingProfile.CompanyName": ci(billing, "companyName"),
        "BillingProfile.DefaultAddress.Country": ci(address, "country"),
        "BillingProfile.DefaultAddress.City": ci(address, "city"),
        "BillingProfile.DefaultAddress.AddressLine1": ci(address, "addressLine1"),
        "BillingProfile.DefaultAddress.PostalCode": ci(address, "postalCode"),
        "BillingProfile.DefaultAddress.FirstName": ci(address, "firstName"),
        "BillingProfile.DefaultAddress.LastName": ci(address, "lastName"),
    }
    missing = [name for name, value in required.items() if value in (None, "")]
    if missing:
        raise SandboxError(
            400,
            f"The following fields are required: {', '.join(missing)}.",
            2000,
        )
    if ci(data, "userCredentials"):
        raise SandboxError(
            400, "userCredentials cannot be provided; the service generates the password.", 2000
        )
    domain = str(ci(company, "domain")).strip().lower()
    prefix = domain[: -len(ONMICROSOFT)] if domain.endswith(ONMICROSOFT) else ""
    if not PREFIX_RE.match(prefix):
        raise SandboxError(
            400, f"Domain {domain} is invalid: use <prefix>.onmicrosoft.com, 1-27 letters or digits.", 2000
        )
    company_name = str(ci(billing, "companyName"))
    problem = _company_name_problem(company_name)
    if problem:
        raise SandboxError(400, f"Company name '{company_name}' {problem}.", 2000)
    if app.state.tenant_by_domain(domain):
        raise SandboxError(
            400, f"The domain {domain} is not available. It is already used by another tenant.", 600011
        )
    addr = _address_fields(address)
    status, _, message = check_address(addr)
    if status == "None":
        raise SandboxError(400, f"The billing address is invalid. {message}", 60071)
    partner_id = ci(data, "associatedPartnerId")
    reseller = None
    if partner_id:
        reseller = app.state.resellers.get(str(partner_id).lower())
        if reseller is None or not reseller.in_network:
            raise SandboxError(
                400,
                f"AssociatedPartnerId {partner_id} is not an indirect reseller in partnership with "
                f"{DISTRIBUTOR_NAME}.",
                800016,
            )
    tenant = app.state.register_tenant(
        Tenant(new_id(), domain, domain, str(ci(company, "companyName") or company_name))
    )
    default_address = {
        k: str(ci(address, k))
        for k in [
            "country",
            "region",
            "city",
            "state",
            "addressLine1",
            "addressLine2",
            "postalCode",
            "firstName",
            "lastName",
            "phoneNumber",
        ]
        if ci(address, k) not in (None, "")
    }
    customer = Customer(
        tenant_id=tenant.tenant_id,
        billing_profile={
            "id": new_id(),
            "email": ci(billing, "email"),
            "culture": ci(billing, "culture"),
            "language": ci(billing, "language"),
            "companyName": company_name,
            "defaultAddress": default_address,
        },
        created_via="api",
        created_at=now_iso(),
        associated_partner_id=reseller.tenant_id if reseller else None,
    )
    if reseller:
        customer.reseller_ids.append(reseller.tenant_id)
    app.state.customers[tenant.tenant_id] = customer
    body = customer_json(app, customer, full=True)
    body["userCredentials"] = {"userName": "admin", "password": "Sbx!" + secrets.token_urlsafe(12)}
    return remember(app, "create_customer", req, 201, body)


# -- agreements ----------------------------------------------------------------------------------------------


def agreement_metadata(app: SandboxApp, req: Request) -> Response:
    kind = req.query.get("agreementtype", "")
    items = [
        {
            "templateId": MCA_TEMPLATE_ID,
            "agreementType": "MicrosoftCustomerAgreement",
            "agreementLink": "https://aka.ms/customeragreement",
            "versionRank": 0,
            "attributes": {"objectType": "AgreementMetaData"},
        }
    ]
    if kind and kind.lower() not in {"microsoftcustomeragreement", "all"}:
        items = []
    return json_response(200, collection(items))


def create_agreement(app: SandboxApp, req: Request, customer_id: str) -> Response:
    customer = get_customer(app, customer_id)
    data = req.json_object()
    contact = ci(data, "primaryContact") or {}
    missing = [n for n in ("firstName", "lastName", "email") if not ci(contact, n)]
    if missing:
        raise SandboxError(400, f"primaryContact is missing: {', '.join(missing)}.", 2000)
    if ci(data, "templateId") != MCA_TEMPLATE_ID:
        raise SandboxError(400, "templateId is not the current Microsoft Customer Agreement template.", 2000)
    if str(ci(data, "type", "")).lower() != "microsoftcustomeragreement":
        raise SandboxError(400, "type must be MicrosoftCustomerAgreement.", 2000)
    if not ci(data, "dateAgreed"):
        raise SandboxError(400, "dateAgreed is required.", 2000)
    agreement = {
        "primaryContact": {k: ci(contact, k) for k in ("firstName", "lastName", "email", "phoneNumber")},
        "templateId": MCA_TEMPLATE_ID,
        "dateAgreed": ci(data, "dateAgreed"),
        "type": "MicrosoftCustomerAgreement",
        "agreementLink": "https://aka.ms/customeragreement",
        "userId": new_id(),
        "attributes": {"objectType": "Agreement"},
    }
    customer.agreements.append(agreement)
    return json_response(201, agreement)


def list_agreements(app: SandboxApp, req: Request, customer_id: str) -> Response:
    return json_response(200, collection(list(get_customer(app, customer_id).agreements)))


# -- carts and orders ----------------------------------------------------------------------------------------


def _check_participants(app: SandboxApp, participants: Any, index: int) -> str | None:
    """The transaction_reseller MPN must be an active reseller of the network with a signed MPA."""
    if participants in (None, []):
        return None
    if not isinstance(participants, list):
        raise SandboxError(400, f"lineItems[{index}].participants must be a list.", 2000)
    partner_on_record = None
    for participant in participants:
        key, value = str(ci(participant, "key", "")), str(ci(participant, "value", "")).strip()
        if key.lower() not in {"transaction_reseller", "additional_transaction_reseller"}:
            raise SandboxError(400, f"Unknown participant key {key}.", 2000)
        if not value.isdigit():
            raise SandboxError(400, f"MPN Id {value} is not valid.", 800015)
        if value == DISTRIBUTOR_MPN_ID:
            raise SandboxError(
                404, f"MPN Id {value} of the provider is not valid as partner of record.", 2072
            )
        reseller = app.state.reseller_by_mpn(value)
        if reseller is None:
            raise SandboxError(404, f"MPN Id {value} was not found.", 800015)
        if not reseller.in_network:
            raise SandboxError(
                400, f"MPN Id {value} is not a valid indirect reseller of {DISTRIBUTOR_NAME}.", 800016
            )
        if not reseller.mpa_signed:
            raise SandboxError(
                403,
                f"The reseller with MPN Id {value} has not accepted the Microsoft Partner Agreement.",
                900123,
            )
        if key.lower() == "transaction_reseller":
            partner_on_record = value
    return partner_on_record


def _catalog_line_error(
    app: SandboxApp, customer_id: str, catalog_item: str, line: Any, index: int, quantity: int
) -> dict[str, Any] | None:
    """For products of the sandbox catalog: today's availability id, an allowed term and billing cycle, the
    attestation the SKU enforces (400s), and the pooled seat cap (an error on the line, inside the 201)."""
    offer = catalog.current_offer(app, catalog_item)
    if offer is None:
        return None
    product, sku = offer
    term = str(ci(line, "termDuration") or "").upper()
    cycle = str(ci(line, "billingCycle") or "").lower()
    if (term, cycle) not in sku.terms:
        raise SandboxError(
            400, f"lineItems[{index}]: term {term} billed {cycle} is not offered for this SKU.", 800003
        )
    if sku.attestation and ci(line, "attestationAccepted") is not True:
        raise SandboxError(400, f"lineItems[{index}]: this SKU needs attestationAccepted.", 800004)
    return catalog.line_cap_error(app, customer_id, product, sku, quantity)


def create_cart(app: SandboxApp, req: Request, customer_id: str) -> Response:
    """Validate the lines (catalog item ids, quantities, partner of record) and keep the cart."""
    previous = replay(app, f"cart:{customer_id.lower()}", req)
    if previous:
        return previous
    customer = commerce_customer(app, customer_id)
    data = req.json_object()
    lines = ci(data, "lineItems")
    if not isinstance(lines, list) or not lines:
        raise SandboxError(400, "A cart needs at least one line item.", 2000)
    out_lines = []
    for index, line in enumerate(lines):
        catalog_item = str(ci(line, "catalogItemId", ""))
        if not CATALOG_ITEM_RE.match(catalog_item):
            raise SandboxError(
                400, f"lineItems[{index}].catalogItemId must be productId:skuId:availabilityId.", 2000
            )
        quantity = ci(line, "quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise SandboxError(400, f"lineItems[{index}].quantity must be a positive integer.", 2000)
        term = ci(line, "termDuration")
        if term is not None and str(term).upper() not in TERM_DURATIONS:
            raise SandboxError(400, f"lineItems[{index}].termDuration {term} is not offered.", 2000)
        cycle = ci(line, "billingCycle")
        if cycle is not None and str(cycle).lower() not in BILLING_CYCLES:
            raise SandboxError(400, f"lineItems[{index}].billingCycle {cycle} is not valid.", 2000)
        partner = _check_participants(app, ci(line, "participants"), index)
        product = catalog_item.split(":")[0]
        line_error = _catalog_line_error(app, customer.tenant_id, catalog_item, line, index, quantity)
        out_lines.append(
            {
                "id": ci(line, "id", index),
                "catalogItemId": catalog_item,
                "friendlyName": ci(line, "friendlyName"),
                "quantity": quantity,
                "currencyCode": "USD",
                "billingCycle": str(cycle or "monthly").lower(),
                "termDuration": str(term or "P1M").upper(),
                "participants": ci(line, "participants") or [],
                "provisioningContext": ci(line, "provisioningContext") or {},
                # Products named UNAVAILABLE* fail at checkout with 800010 (inventory), for error tests.
                "orderGroup": "1" if product.upper().startswith("UNAVAILABLE") else "0",
                "_partner_on_record": partner,
                **({"attestationAccepted": True} if ci(line, "attestationAccepted") is True else {}),
                **({"error": line_error} if line_error else {}),
            }
        )
    now = now_iso()
    cart_id = new_id()
    cart = {
        "id": cart_id,
        "creationTimestamp": now,
        "lastModifiedTimestamp": now,
        "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400)),
        "lastModifiedUser": "sandbox-admin-agent",
        "status": "Active",
        "partnerOnRecordAttestationAccepted": bool(ci(data, "PartnerOnRecordAttestationAccepted", False)),
        "lineItems": out_lines,
        "links": {"self": link(f"/customers/{customer.tenant_id}/carts/{cart_id}")},
        "attributes": {"objectType": "Cart"},
        "_customer_id": customer.tenant_id,
    }
    app.state.carts[cart_id] = cart
    return remember(app, f"cart:{customer_id.lower()}", req, 201, public(cart))


def public(obj: Any) -> Any:
    """Drop the sandbox's private keys (leading underscore) before answering."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def _order_json(order: dict[str, Any]) -> dict[str, Any]:
    return public(order)


def refresh_order(app: SandboxApp, order: dict[str, Any]) -> None:
    """Pending orders complete once order_completion_seconds have passed."""
    if order["status"] == "pending" and time.time() >= order["_complete_at"]:
        order["status"] = "completed"
        for line in order["lineItems"]:
            line["provisioningStatus"] = "fulfilled"


def checkout(app: SandboxApp, req: Request, customer_id: str, cart_id: str) -> Response:
    """Turn a cart into orders; a second checkout is 800065; idempotent on MS-RequestId."""
    operation = f"checkout:{cart_id.lower()}"
    previous = replay(app, operation, req)
    if previous:
        return previous
    customer = commerce_customer(app, customer_id)
    cart = app.state.carts.get(cart_id.lower())
    if cart is None or cart["_customer_id"] != customer.tenant_id:
        raise SandboxError(404, f"Cart {cart_id} was not found.", 800002)
    if cart["status"] != "Active":
        raise SandboxError(400, "The cart has already been submitted.", 800065)
    if any("error" in line for line in cart["lineItems"]):
        raise SandboxError(400, "The cart has line items with errors.", catalog.CAP_ERROR_CODE)
    if not customer.mca_accepted:
        raise SandboxError(
            403, "The customer has not accepted the Microsoft Customer Agreement (MCA) yet.", 13605
        )
    delay = float(app.state.config.get("order_completion_seconds") or 0)
    orders, errors = [], []
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in cart["lineItems"]:
        groups.setdefault(line["orderGroup"], []).append(line)
    for group, lines in sorted(groups.items()):
        if group == "1":
            errors.append(
                {"orderGroupId": group, "code": 800010, "description": "Inventory is not available."}
            )
            continue
        order_id = secrets.token_hex(16)
        status = "pending" if delay > 0 else "completed"
        order = {
            "id": order_id,
            "alternateId": order_id[:12],
            "referenceCustomerId": customer.tenant_id,
            "billingCycle": lines[0]["billingCycle"],
            "currencyCode": "USD",
            "currencySymbol": "$",
            "lineItems": [
                {
                    "lineItemNumber": number,
                    "offerId": line["catalogItemId"],
                    "subscriptionId": new_id(),
                    "termDuration": line["termDuration"],
                    "transactionType": "New",
                    "friendlyName": line["friendlyName"],
                    "quantity": line["quantity"],
                    "partnerIdOnRecord": line["_partner_on_record"],
                    "provisioningStatus": "pending" if delay > 0 else "fulfilled",
                    "links": {
                        "subscription": link(f"/customers/{customer.tenant_id}/subscriptions/{new_id()}")
                    },
                }
                for number, line in enumerate(lines)
            ],
            "creationDate": now_iso(),
            "status": status,
            "transactionType": "UserPurchase",
            "links": {
                "self": link(f"/customers/{customer.tenant_id}/orders/{order_id}"),
                "provisioningStatus": link(
                    f"/customers/{customer.tenant_id}/orders/{order_id}/provisioningstatus"
                ),
            },
            "attributes": {"etag": secrets.token_hex(8), "objectType": "Order"},
            "_complete_at": time.time() + delay,
            "_cart_id": cart["id"],
        }
        app.state.orders[order_id] = order
        orders.append(_order_json(order))
    for line in cart["lineItems"]:
        product_id, _, rest = line["catalogItemId"].partition(":")
        key = (customer.tenant_id.lower(), product_id.upper(), rest.partition(":")[0])
        app.state.seat_usage[key] = app.state.seat_usage.get(key, 0) + line["quantity"]
    cart["status"] = "Ordered"
    cart["lastModifiedTimestamp"] = now_iso()
    result = {"orders": orders, "orderErrors": errors, "attributes": {"objectType": "CartCheckoutResult"}}
    return remember(app, operation, req, 201, result)


def _get_order(app: SandboxApp, customer_id: str, order_id: str) -> dict[str, Any]:
    customer = commerce_customer(app, customer_id)
    order = app.state.orders.get(order_id.lower())
    if order is None or order["referenceCustomerId"] != customer.tenant_id:
        raise SandboxError(404, f"Order {order_id} was not found.", 800005)
    refresh_order(app, order)
    return order


def order_detail(app: SandboxApp, req: Request, customer_id: str, order_id: str) -> Response:
    return json_response(200, _order_json(_get_order(app, customer_id, order_id)))


def order_provisioning(app: SandboxApp, req: Request, customer_id: str, order_id: str) -> Response:
    order = _get_order(app, customer_id, order_id)
    items = [
        {
            "lineItemNumber": line["lineItemNumber"],
            "status": line["provisioningStatus"],
            "quantityProvisioningInformation": [],
            "attributes": {"objectType": "OrderLineItemProvisioningStatus"},
        }
        for line in order["lineItems"]
    ]
    return json_response(200, collection(items))


# -- webhooks ------------------------------------------------------------------------------------------------


def _registration_from(req: Request) -> dict[str, Any]:
    data = req.json_object()
    url = ci(data, "WebhookUrl")
    events = ci(data, "WebhookEvents")
    if not url or not str(url).startswith(("http://", "https://")):
        raise SandboxError(400, "WebhookUrl must be an absolute http(s) URL.", 2000)
    if not isinstance(events, list) or not events:
        raise SandboxError(400, "WebhookEvents must list at least one event.", 2000)
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise SandboxError(400, f"Unsupported webhook events: {', '.join(map(str, unknown))}.", 2000)
    return {"SubscriberId": DISTRIBUTOR_TENANT_ID, "WebhookUrl": url, "WebhookEvents": list(events)}


def register_webhook(app: SandboxApp, req: Request) -> Response:
    if app.state.webhook_registration:
        raise SandboxError(409, "A webhook registration already exists; update it with PUT.", 2000)
    app.state.webhook_registration = _registration_from(req)
    return json_response(200, app.state.webhook_registration)


def update_webhook(app: SandboxApp, req: Request) -> Response:
    app.state.webhook_registration = _registration_from(req)
    return json_response(200, app.state.webhook_registration)


def get_webhook(app: SandboxApp, req: Request) -> Response:
    if not app.state.webhook_registration:
        raise SandboxError(404, "No webhook registration exists.", 2000)
    return json_response(200, app.state.webhook_registration)


def delete_webhook(app: SandboxApp, req: Request) -> Response:
    app.state.webhook_registration = None
    return empty(204)


def send_validation_event(app: SandboxApp, req: Request) -> Response:
    """POST validationEvents: a signed `test-created` event to the registered URL; answers its correlation id."""
    if not app.state.webhook_registration:
        raise SandboxError(404, "No webhook registration exists.", 2000)
    correlation_id = str(uuid.uuid4())
    uri = f"{req.base_url}/webhooks/v1/registration/validationEvents/{correlation_id}"
    webhooks.deliver(app.state, app.signer, req.base_url, webhooks.TEST_EVENT, uri, correlation_id)
    return json_response(200, {"correlationId": correlation_id})


def webhook_events(app: SandboxApp, req: Request) -> Response:
    return json_response(200, WEBHOOK_EVENTS)


def routes() -> list[Route]:
    c = "/v1/customers/{customer_id}"
    pc = PARTNER_CENTER
    return [
        Route("GET", "/v1/domains/{domain}", domain_exists, pc),
        Route("GET", "/v1/customers/relationshiprequests", relationship_request, pc),
        Route("GET", "/v1/relationships", relationships, pc),
        Route("GET", "/v1/compliance/csp/agreementstatus", agreement_status, pc),
        Route("POST", "/v1/validations/address", validate_address, pc),
        Route("GET", "/v1/agreements", agreement_metadata, pc),
        Route("GET", "/v1/customers", list_customers, pc),
        Route("POST", "/v1/customers", create_customer, pc),
        Route("GET", c, customer_detail, pc),
        Route("GET", c + "/relationships", customer_relationships, pc),
        Route("GET", c + "/agreements", list_agreements, pc),
        Route("POST", c + "/agreements", create_agreement, pc),
        Route("POST", c + "/carts", create_cart, pc),
        Route("POST", c + "/carts/{cart_id}/checkout", checkout, pc),
        Route("GET", c + "/orders/{order_id}", order_detail, pc),
        Route("GET", c + "/orders/{order_id}/provisioningstatus", order_provisioning, pc),
        Route("GET", "/webhooks/v1/registration/events", webhook_events, pc),
        Route("POST", "/webhooks/v1/registration/validationEvents", send_validation_event, pc),
        Route("POST", "/webhooks/v1/registration", register_webhook, pc),
        Route("PUT", "/webhooks/v1/registration", update_webhook, pc),
        Route("GET", "/webhooks/v1/registration", get_webhook, pc),
        Route("DELETE", "/webhooks/v1/registration", delete_webhook, pc),
    ]
