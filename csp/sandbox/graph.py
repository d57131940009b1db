"""Graph host (graph.microsoft.com): GDAP delegatedAdminRelationships, their requests and assignments."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from csp.sandbox.state import GLOBAL_ADMINISTRATOR_ROLE, GUID_RE, SandboxError, new_id, now_iso
from csp.sandbox.web import GRAPH, Request, Response, Route, json_response

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp

BASE = "/v1.0/tenantRelationships/delegatedAdminRelationships"
DURATION_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$", re.IGNORECASE)
AUTO_EXTEND = {"PT0S", "P0D", "P180D"}

# Entra built-in role template ids, for showing names on the approval page.
ROLE_NAMES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
    "17315797-102d-40b4-93e0-432062caca18": "Compliance Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "f023fd81-a637-4b56-95fd-791ac0226033": "Service Support Administrator",
    "11648597-926c-4cf3-9c36-bcebb0ba8dcc": "Power Platform Administrator",
}


def duration_days(value: str) -> int | None:
    """Days in an ISO-8601 duration made of years, months, weeks and days (a year counts 365 days)."""
    found = DURATION_RE.match(value or "")
    if not found or not any(found.groups()):
        return None
    years, months, weeks, days = (int(g or 0) for g in found.groups())
    return years * 365 + months * 30 + weeks * 7 + days


def public(rel: dict[str, Any], req: Request | None = None) -> dict[str, Any]:
    body = {k: v for k, v in rel.items() if not k.startswith("_")}
    if req is not None:
        body = {
            "@odata.context": f"{req.base_url}/v1.0/$metadata#delegatedAdminRelationships/$entity",
            **body,
        }
    return body


def get_relationship(app: SandboxApp, relationship_id: str) -> dict[str, Any]:
    rel = app.state.gdap.get(relationship_id.lower())
    if rel is None:
        raise SandboxError(
            404, f"The delegated admin relationship {relationship_id} was not found.", "NotFound"
        )
    return rel


def _touch(rel: dict[str, Any]) -> None:
    rel["lastModifiedDateTime"] = now_iso()
    rel["@odata.etag"] = f'W/"{secrets.token_urlsafe(16)}"'


def create_relationship(app: SandboxApp, req: Request) -> Response:
    """Validate like Graph does (name, duration, roles, auto-extend) and store a 'created' relationship."""
    data = req.json_object()
    name = str(data.get("displayName") or "").strip()
    if not name:
        raise SandboxError(400, "displayName is required.", "BadRequest")
    if len(name) > 50:
        raise SandboxError(400, "displayName cannot be longer than 50 characters.", "BadRequest")
    if any(r["displayName"].lower() == name.lower() for r in app.state.gdap.values()):
        raise SandboxError(400, f"A relationship with displayName '{name}' already exists.", "BadRequest")
    duration = str(data.get("duration") or "")
    days = duration_days(duration)
    if days is None or not 1 <= days <= 730:
        raise SandboxError(400, "duration must be an ISO-8601 duration between P1D and P730D.", "BadRequest")
    roles = ((data.get("accessDetails") or {}).get("unifiedRoles")) or []
    role_ids = [str((r or {}).get("roleDefinitionId") or "") for r in roles if isinstance(r, dict)]
    if not role_ids or len(role_ids) != len(roles) or not all(GUID_RE.match(r) for r in role_ids):
        raise SandboxError(
            400, "accessDetails.unifiedRoles needs at least one roleDefinitionId.", "BadRequest"
        )
    auto_extend = str(data.get("autoExtendDuration") or "PT0S").upper()
    if auto_extend not in AUTO_EXTEND:
        raise SandboxError(400, "autoExtendDuration must be PT0S, P0D or P180D.", "BadRequest")
    if auto_extend == "P180D" and GLOBAL_ADMINISTRATOR_ROLE in role_ids:
        raise SandboxError(
            400, "Auto extension is not allowed with the Global Administrator role.", "BadRequest"
        )
    customer = data.get("customer") or None
    if customer is not None:
        tenant_id = str(customer.get("tenantId") or "").lower()
        if not GUID_RE.match(tenant_id):
            raise SandboxError(400, "customer.tenantId must be a GUID.", "BadRequest")
        tenant = app.state.tenants.get(tenant_id)
        display = customer.get("displayName") or (tenant.company_name if tenant else "")
        customer = {"tenantId": tenant_id, "displayName": display}
    rel_id = f"{new_id()}-{new_id()}"
    now = now_iso()
    rel = {
        "@odata.etag": "",
        "id": rel_id,
        "displayName": name,
        "duration": duration.upper(),
        "status": "created",
        "autoExtendDuration": auto_extend,
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "activatedDateTime": None,
        "endDateTime": None,
        "customer": customer,
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in role_ids]},
        "_days": days,
        "_requests": [],
        "_assignments": [],
    }
    _touch(rel)
    app.state.gdap[rel_id] = rel
    location = f"{req.base_url}{BASE}/{rel_id}"
    return json_response(201, public(rel, req), {"Location": location, "ETag": rel["@odata.etag"]})


# The $filter clauses the storefront uses: `<property> eq '<text>'`, joined by `and` (OData doubles a quote).
FILTER_CLAUSE = re.compile(r"^\s*(displayName|status|customer/tenantId)\s+eq\s+'((?:[^']|'')*)'\s*$")
FILTERABLE = {
    "displayName": lambda rel: rel["displayName"],
    "status": lambda rel: rel["status"],
    "customer/tenantId": lambda rel: (rel["customer"] or {}).get("tenantId") or "",
}


def _filter(expression: str) -> list[tuple[str, str]]:
    clauses = []
    for part in re.split(r"\s+and\s+", expression.strip()) if expression.strip() else []:
        found = FILTER_CLAUSE.match(part)
        if not found:
            raise SandboxError(400, f"Invalid filter clause: {part.strip()[:100]}", "BadRequest")
        clauses.append((found.group(1), found.group(2).replace("''", "'")))
    return clauses


def list_relationships(app: SandboxApp, req: Request) -> Response:
    """The partner's relationships, narrowed by `$filter` (string comparisons are case-insensitive, as Graph's)."""
    clauses = _filter(req.query.get("$filter", ""))
    top = req.query.get("$top", "300")
    if not top.isdigit() or not 1 <= int(top) <= 300:
        raise SandboxError(400, "$top must be between 1 and 300.", "BadRequest")
    found = [
        public(rel)
        for rel in app.state.gdap.values()
        if all(FILTERABLE[name](rel).lower() == value.lower() for name, value in clauses)
    ]
    context = f"{req.base_url}/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships"
    return json_response(200, {"@odata.context": context, "value": found[: int(top)]})


def relationship_detail(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    rel = get_relationship(app, relationship_id)
    return json_response(200, public(rel, req), {"ETag": rel["@odata.etag"]})


def post_request(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    """lockForApproval moves created -> approvalPending; terminate ends an active relationship."""
    rel = get_relationship(app, relationship_id)
    action = str(req.json_object().get("action") or "")
    if action == "lockForApproval":
        if rel["status"] != "created":
            raise SandboxError(
                400, f"Only a created relationship can be locked; it is {rel['status']}.", "BadRequest"
            )
        rel["status"] = "approvalPending"
    elif action == "terminate":
        if rel["status"] not in {"active", "approved"}:
            raise SandboxError(
                400, f"Only an active relationship can be terminated; it is {rel['status']}.", "BadRequest"
            )
        rel["status"] = "terminated"
    else:
        raise SandboxError(400, "action must be lockForApproval or terminate.", "BadRequest")
    _touch(rel)
    now = now_iso()
    request = {
        "id": new_id(),
        "action": action,
        "status": "created",
        "createdDateTime": now,
        "lastModifiedDateTime": now,
    }
    rel["_requests"].append(request)
    body = {"@odata.context": f"{req.base_url}/v1.0/$metadata#delegatedAdminRelationshipRequest", **request}
    return json_response(
        201, body, {"Location": f"{req.base_url}{BASE}/{rel['id']}/requests/{request['id']}"}
    )


def list_requests(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    return json_response(200, {"value": list(get_relationship(app, relationship_id)["_requests"])})


def refresh_assignment(app: SandboxApp, assignment: dict[str, Any]) -> dict[str, Any]:
    """A pending assignment becomes active once gdap_assignment_activation_seconds have passed."""
    if assignment["status"] == "pending" and time.time() >= assignment["_active_at"]:
        assignment["status"] = "active"
        assignment["lastModifiedDateTime"] = now_iso()
        assignment["@odata.etag"] = f'W/"{secrets.token_urlsafe(12)}"'
    return assignment


def create_assignment(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    """Roles of an active relationship for one of the partner's security groups; `pending` until applied."""
    rel = get_relationship(app, relationship_id)
    if rel["status"] != "active":
        raise SandboxError(400, "Access assignments need an active relationship.", "BadRequest")
    data = req.json_object()
    container = data.get("accessContainer") or {}
    if not isinstance(container, dict) or not GUID_RE.match(str(container.get("accessContainerId") or "")):
        raise SandboxError(
            400,
            "accessContainer.accessContainerId must be the id of a security group (a GUID).",
            "BadRequest",
        )
    if str(container.get("accessContainerType") or "securityGroup") != "securityGroup":
        raise SandboxError(400, "accessContainer.accessContainerType must be securityGroup.", "BadRequest")
    roles = ((data.get("accessDetails") or {}).get("unifiedRoles")) or []
    role_ids = [str((r or {}).get("roleDefinitionId") or "").lower() for r in roles if isinstance(r, dict)]
    if not role_ids or len(role_ids) != len(roles) or not all(GUID_RE.match(r) for r in role_ids):
        raise SandboxError(
            400, "accessDetails.unifiedRoles needs at least one roleDefinitionId.", "BadRequest"
        )
    granted = {r["roleDefinitionId"].lower() for r in rel["accessDetails"]["unifiedRoles"]}
    if not set(role_ids) <= granted:
        raise SandboxError(
            400, "The roles of an access assignment must be roles of its relationship.", "BadRequest"
        )
    now = now_iso()
    assignment = {
        "@odata.etag": f'W/"{secrets.token_urlsafe(12)}"',
        "id": new_id(),
        "status": "pending",
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "accessContainer": {
            "accessContainerId": container["accessContainerId"].lower(),
            "accessContainerType": "securityGroup",
        },
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in role_ids]},
        "_active_at": time.time() + float(app.state.config.get("gdap_assignment_activation_seconds") or 0),
    }
    rel["_assignments"].append(assignment)
    location = f"{req.base_url}{BASE}/{rel['id']}/accessAssignments/{assignment['id']}"
    body = {
        "@odata.context": f"{req.base_url}/v1.0/tenantRelationships/$metadata#accessAssignments",
        **public(assignment),
    }
    return json_response(201, body, {"Location": location})


def list_assignments(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    assignments = get_relationship(app, relationship_id)["_assignments"]
    return json_response(200, {"value": [public(refresh_assignment(app, a)) for a in assignments]})


def assignment_detail(app: SandboxApp, req: Request, relationship_id: str, assignment_id: str) -> Response:
    rel = get_relationship(app, relationship_id)
    assignment = next((a for a in rel["_assignments"] if a["id"] == assignment_id.lower()), None)
    if assignment is None:
        raise SandboxError(404, f"The access assignment {assignment_id} was not found.", "NotFound")
    return json_response(200, public(refresh_assignment(app, assignment)))


def approve(app: SandboxApp, relationship_id: str, tenant_id: str | None = None) -> dict[str, Any]:
    """The customer's admin approves: approvalPending -> active, with activation and end dates."""
    rel = get_relationship(app, relationship_id)
    if rel["status"] != "approvalPending":
        raise SandboxError(409, f"The relationship is {rel['status']}, not awaiting approval.", "Conflict")
    if rel["customer"] is None:
        tenant = app.state.tenants.get((tenant_id or "").lower())
        if tenant is None:
            raise SandboxError(400, "The approving organization is unknown.", "BadRequest")
        rel["customer"] = {"tenantId": tenant.tenant_id, "displayName": tenant.company_name}
    activated = datetime.now(UTC)
    rel["status"] = "active"
    rel["activatedDateTime"] = activated.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    end = activated + timedelta(days=rel["_days"])
    rel["endDateTime"] = end.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    _touch(rel)
    return rel


def routes() -> list[Route]:
    one = BASE + "/{relationship_id}"
    return [
        Route("POST", BASE, create_relationship, GRAPH),
        Route("GET", BASE, list_relationships, GRAPH),
        Route("GET", one, relationship_detail, GRAPH),
        Route("POST", one + "/requests", post_request, GRAPH),
        Route("GET", one + "/requests", list_requests, GRAPH),
        Route("POST", one + "/accessAssignments", create_assignment, GRAPH),
        Route("GET", one + "/accessAssignments", list_assignments, GRAPH),
        Route("GET", one + "/accessAssignments/{assignment_id}", assignment_detail, GRAPH),
    ]
