"""Control API under /_sandbox/ (JSON, no auth) for tests, demos and benchmarks."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from csp.sandbox import graph
from csp.sandbox.state import DEFAULT_CONFIG, SandboxError
from csp.sandbox.web import CONTROL, Request, Response, Route, json_response
from csp.sandbox.webhooks import CA_PATH, CERTIFICATE_PATH

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp


def reset(app: SandboxApp, req: Request) -> Response:
    app.state.reset()
    return json_response(200, {"status": "reset"})


def state(app: SandboxApp, req: Request) -> Response:
    return json_response(200, app.state.summary())


def requests_log(app: SandboxApp, req: Request) -> Response:
    return json_response(200, {"requests": list(app.state.request_log)})


def add_tenant(app: SandboxApp, req: Request) -> Response:
    data = req.json_object()
    tenant = app.state.add_tenant(
        str(data.get("domain_prefix") or ""), data.get("default_domain"), data.get("company_name")
    )
    return json_response(201, asdict(tenant))


def add_tenants_bulk(app: SandboxApp, req: Request) -> Response:
    data = req.json_object()
    count = data.get("count")
    if not isinstance(count, int) or not 1 <= count <= 100_000:
        raise SandboxError(400, "count must be an integer from 1 to 100000")
    prefix = str(data.get("prefix") or "load").lower()
    tenants = app.state.add_tenants_bulk(count, prefix)
    return json_response(
        201,
        {
            "created": len(tenants),
            "tenants": [{"tenant_id": t.tenant_id, "domain": t.initial_domain} for t in tenants],
        },
    )


def accept(app: SandboxApp, req: Request) -> Response:
    """Same effect as the admin-portal acceptance, for API tests."""
    data = req.json_object()
    reseller_id = data.get("reseller_tenant_id")
    tenant, customer, reseller = app.state.accept_relationship(str(data.get("domain") or ""), reseller_id)
    event = app.relationship_accepted(req.base_url, tenant.tenant_id, indirect=reseller is not None)
    body = {
        "customer_tenant_id": tenant.tenant_id,
        "domain": tenant.initial_domain,
        "reseller_tenant_id": reseller.tenant_id if reseller else None,
        "reseller_ids": list(customer.reseller_ids),
        "event": event,
    }
    return json_response(200, body)


def gdap_detail(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    return json_response(200, graph.public(graph.get_relationship(app, relationship_id)))


def gdap_approve(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    data = req.json_object()
    tenant_id = data.get("tenant_id")
    if data.get("domain"):
        tenant = app.state.tenant_by_domain(str(data["domain"]))
        tenant_id = tenant.tenant_id if tenant else None
    rel = graph.approve(app, relationship_id, tenant_id)
    app.gdap_approved(req.base_url, rel["id"])
    return json_response(200, graph.public(rel))


def set_faults(app: SandboxApp, req: Request) -> Response:
    return json_response(200, {"faults": app.state.set_faults(req.json_object())})


def get_faults(app: SandboxApp, req: Request) -> Response:
    return json_response(200, {"faults": app.state.faults})


def clear_faults(app: SandboxApp, req: Request) -> Response:
    app.state.faults = {}
    return json_response(200, {"faults": {}})


def get_config(app: SandboxApp, req: Request) -> Response:
    return json_response(200, app.state.config)


def set_config(app: SandboxApp, req: Request) -> Response:
    """Page sizes, order completion delay, base latency and the webhook certificate URL; unknown keys refused."""
    data: dict[str, Any] = req.json_object()
    unknown = set(data) - set(DEFAULT_CONFIG)
    if unknown:
        raise SandboxError(400, f"unknown config keys: {sorted(unknown)}")
    for key, value in data.items():
        if key == "webhook_certificate_url":
            if value is not None and not isinstance(value, str):
                raise SandboxError(400, f"{key} must be a URL or null")
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise SandboxError(400, f"{key} must be a non-negative number")
        if key.endswith("page_size") and value < 1:
            raise SandboxError(400, f"{key} must be at least 1")
    app.state.config.update(data)
    return json_response(200, app.state.config)


def certificate(app: SandboxApp, req: Request) -> Response:
    """The signing certificate as Microsoft publishes its own: one DER .cer file."""
    return Response(200, app.signer.certificate_der, {}, "application/pkix-cert")


def ca_certificate(app: SandboxApp, req: Request) -> Response:
    return Response(200, app.signer.ca_pem, {}, "application/x-pem-file")


def routes() -> list[Route]:
    c = CONTROL
    return [
        Route("POST", "/_sandbox/reset", reset, c, auth=False),
        Route("GET", "/_sandbox/state", state, c, auth=False),
        Route("GET", "/_sandbox/requests", requests_log, c, auth=False),
        Route("POST", "/_sandbox/tenants", add_tenant, c, auth=False),
        Route("POST", "/_sandbox/tenants/bulk", add_tenants_bulk, c, auth=False),
        Route("POST", "/_sandbox/accept", accept, c, auth=False),
        Route("GET", "/_sandbox/gdap/{relationship_id}", gdap_detail, c, auth=False),
        Route("POST", "/_sandbox/gdap/{relationship_id}/approve", gdap_approve, c, auth=False),
        Route("GET", "/_sandbox/faults", get_faults, c, auth=False),
        Route("POST", "/_sandbox/faults", set_faults, c, auth=False),
        Route("DELETE", "/_sandbox/faults", clear_faults, c, auth=False),
        Route("GET", "/_sandbox/config", get_config, c, auth=False),
        Route("POST", "/_sandbox/config", set_config, c, auth=False),
        Route("GET", CERTIFICATE_PATH, certificate, c, auth=False),
        Route("GET", CA_PATH, ca_certificate, c, auth=False),
    ]
