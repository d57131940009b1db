"""Admin-portal pages (admin.microsoft.com) where a customer's administrator accepts invitations.

Labels are stable for people and browser tests: the field "Your organization's domain", the buttons
"Accept and authorize" and "Approve".
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from csp.sandbox import graph
from csp.sandbox.state import DISTRIBUTOR_NAME, DISTRIBUTOR_TENANT_ID, Reseller, SandboxError
from csp.sandbox.web import PORTAL, Request, Response, Route, esc, html_response, page

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp

HOME = "/Adminportal/Home"
GDAP_PAGE = "/AdminPortal/granularAdminRelationships"
INVITATION_FIELDS = ("invType", "partnerId", "msppId", "indirectCSPId", "DAP")

# The GDAP link carries the relationship id in the fragment, which browsers never send: read it here.
HASH_SCRIPT = (
    "<script>(function () {\n"
    "  var pattern = /^#\\/partners\\/invitation\\/granularAdminRelationships\\/([^/?#]+)/;\n"
    "  var found = pattern.exec(location.hash);\n"
    "  if (found) {\n"
    f'    location.replace("{GDAP_PAGE}/" + encodeURIComponent(decodeURIComponent(found[1])));\n'
    "  }\n"
    "})();</script>"
)


def _invitation(app: SandboxApp, values: dict[str, str]) -> Reseller | None:
    """The reseller of an indirect invitation, None for a direct one; SandboxError when the link is bad."""
    kind = values.get("invtype", "")
    partner_id = values.get("partnerid", "").lower()
    if kind.lower() == "resellerrelationship":
        if partner_id != DISTRIBUTOR_TENANT_ID:
            raise SandboxError(400, "This invitation link is not valid: the inviting partner is unknown.")
        return None
    if kind.lower() == "indirectresellerrelationship":
        reseller = app.state.resellers.get(partner_id)
        if reseller is None or not reseller.in_network:
            raise SandboxError(400, "This invitation link is not valid: the inviting reseller is unknown.")
        if values.get("msppid") and values["msppid"] != reseller.mpn_id:
            raise SandboxError(
                400, "This invitation link is not valid: the reseller's Partner ID does not match."
            )
        if values.get("indirectcspid", "").lower() != DISTRIBUTOR_TENANT_ID:
            raise SandboxError(400, "This invitation link is not valid: the indirect provider is unknown.")
        return reseller
    raise SandboxError(400, "This invitation link is not valid.")


def _who(reseller: Reseller | None) -> str:
    if reseller is None:
        name = esc(DISTRIBUTOR_NAME)
        return f"<p><strong>{name}</strong> invites you to make it your Cloud Solution Provider.</p>"
    return (
        f"<p><strong>{esc(reseller.name)}</strong> (Partner ID {esc(reseller.mpn_id)}) invites you to make "
        f"it your Cloud Solution Provider, with <strong>{esc(DISTRIBUTOR_NAME)}</strong> as its indirect "
        "provider.</p>"
    )


def _form(values: dict[str, str], domain: str = "", error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{esc(values.get(name.lower(), ""))}">'
        for name in INVITATION_FIELDS
    )
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return f"""{message}<form method="post" action="{HOME}">{hidden}
<label for="domain">Your organization's domain</label>
<input id="domain" name="domain" type="text" value="{esc(domain)}"
 placeholder="contoso.onmicrosoft.com" required>
<p>By accepting, you authorize the partner to act as your Cloud Solution Provider and accept the
Microsoft Customer Agreement.</p>
<button type="submit">Accept and authorize</button>
</form>"""


def home(app: SandboxApp, req: Request) -> Response:
    values = {k: v for k, v in req.query.items()}
    if not values.get("invtype"):
        body = "<p>No invitation to review. Open the link your partner sent you.</p>"
        return html_response(200, page("Microsoft 365 admin center", body, HASH_SCRIPT))
    try:
        reseller = _invitation(app, values)
    except SandboxError as exc:
        return html_response(400, page("Invitation", f'<p class="error" role="alert">{esc(exc.message)}</p>'))
    return html_response(200, page("Accept partner invitation", _who(reseller) + _form(values), HASH_SCRIPT))


def accept(app: SandboxApp, req: Request) -> Response:
    """The form POST: the typed domain's tenant becomes the distributor's (and the reseller's) customer."""
    form = {k.lower(): v for k, v in req.form().items()}
    values = {**req.query, **{k: v for k, v in form.items() if v}}
    try:
        reseller = _invitation(app, values)
    except SandboxError as exc:
        return html_response(400, page("Invitation", f'<p class="error" role="alert">{esc(exc.message)}</p>'))
    domain = form.get("domain", "").strip()
    try:
        tenant, _, _ = app.state.accept_relationship(domain, reseller.tenant_id if reseller else None)
    except SandboxError:
        error = (
            f"We couldn't find an organization with the domain '{domain}'. Type a domain your organization "
            "uses, for example contoso.onmicrosoft.com or contoso.com."
        )
        return html_response(
            400, page("Accept partner invitation", _who(reseller) + _form(values, domain, error))
        )
    app.relationship_accepted(req.base_url, tenant.tenant_id, indirect=reseller is not None)
    if reseller is None:
        text = (
            f"{DISTRIBUTOR_NAME} is now authorized as the Cloud Solution Provider of {tenant.company_name}."
        )
    else:
        text = (
            f"{reseller.name} is now authorized as the Cloud Solution Provider of {tenant.company_name}, "
            f"with {DISTRIBUTOR_NAME} as its indirect provider."
        )
    body = (
        f'<p class="success" role="status">{esc(text)}</p><p>Organization: {esc(tenant.initial_domain)}</p>'
    )
    return html_response(200, page("Partner authorized", body))


def _roles_list(rel: dict) -> str:
    items = []
    for role in rel["accessDetails"]["unifiedRoles"]:
        role_id = role["roleDefinitionId"]
        items.append(f"<li>{esc(graph.ROLE_NAMES.get(role_id, role_id))}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _gdap_details(app: SandboxApp, rel: dict) -> str:
    customer = rel["customer"]["displayName"] if rel["customer"] else "Any organization that accepts"
    return (
        f"<p><strong>{esc(DISTRIBUTOR_NAME)}</strong> requests granular delegated admin privileges.</p>"
        f"<dl><dt>Relationship</dt><dd>{esc(rel['displayName'])}</dd>"
        f"<dt>Customer</dt><dd>{esc(customer)}</dd>"
        f"<dt>Duration</dt><dd>{esc(rel['duration'])} ({rel['_days']} days)</dd>"
        f'<dt>Status</dt><dd id="status">{esc(rel["status"])}</dd>'
        f"<dt>Roles</dt><dd>{_roles_list(rel)}</dd></dl>"
    )


def gdap_page(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    try:
        rel = graph.get_relationship(app, relationship_id)
    except SandboxError as exc:
        return html_response(
            404, page("Granular admin relationship", f'<p class="error">{esc(exc.message)}</p>')
        )
    body = _gdap_details(app, rel)
    if rel["status"] == "approvalPending":
        domain_field = ""
        if rel["customer"] is None:
            domain_field = (
                '<label for="domain">Your organization\'s domain</label>'
                '<input id="domain" name="domain" type="text" required>'
            )
        action = f"{GDAP_PAGE}/{quote(rel['id'])}/approve"
        button = '<button type="submit">Approve</button>'
        body += f'<form method="post" action="{action}">{domain_field}{button}</form>'
    elif rel["status"] == "created":
        body += '<p class="error">The partner has not sent this request for approval yet.</p>'
    return html_response(200, page("Granular admin relationship", body))


def gdap_approve(app: SandboxApp, req: Request, relationship_id: str) -> Response:
    form = req.form()
    try:
        tenant_id = None
        if form.get("domain"):
            tenant = app.state.tenant_by_domain(form["domain"])
            tenant_id = tenant.tenant_id if tenant else None
        rel = graph.approve(app, relationship_id, tenant_id)
    except SandboxError as exc:
        return html_response(
            exc.status, page("Granular admin relationship", f'<p class="error">{esc(exc.message)}</p>')
        )
    app.gdap_approved(req.base_url, rel["id"])
    text = (
        f"The granular admin relationship {rel['displayName']} is now active: "
        f"{DISTRIBUTOR_NAME} is authorized."
    )
    body = f'<p class="success" role="status">{esc(text)}</p>' + _gdap_details(app, rel)
    return html_response(200, page("Relationship approved", body))


def routes() -> list[Route]:
    return [
        Route("GET", HOME, home, PORTAL, auth=False),
        Route("POST", HOME, accept, PORTAL, auth=False),
        Route("GET", GDAP_PAGE + "/{relationship_id}", gdap_page, PORTAL, auth=False),
        Route("POST", GDAP_PAGE + "/{relationship_id}/approve", gdap_approve, PORTAL, auth=False),
    ]
