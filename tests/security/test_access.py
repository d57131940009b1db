"""Object-level access for every page and endpoint, with the owner, a teammate and an outsider.

Every named route must have a line in ACCESS (admin routes are covered by one rule): a new page without an
expectation here fails `test_every_route_has_an_access_expectation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse

from tests.pc_sandbox import sandbox_state
from tests.security.routes import named_routes
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

PAGE = frozenset({200, 204, 302})  # the page, an htmx no-change, or a wizard step redirect
LOGIN = "login"  # anonymous: redirected to the sign-in page
API_ANON = frozenset({401, 403})


@dataclass(frozen=True)
class Access:
    method: str = "GET"
    data: dict = field(default_factory=dict)
    # Whose object the URL names: "own" routes must answer 404 to the outsider.
    own: bool = False
    anonymous: object = LOGIN
    everyone: frozenset = PAGE
    htmx: bool = False


ACCESS: dict[str, Access] = {
    "catalog": Access(anonymous=frozenset({200})),
    "catalog_add": Access(method="POST", data={"offer": "", "quantity": "1"}),
    "accounts:login": Access(anonymous=frozenset({200})),
    "accounts:logout": Access(method="POST", anonymous=frozenset({302})),
    "accounts:account": Access(),
    "accounts:password_change": Access(),
    "accounts:password_reset": Access(anonymous=frozenset({200})),
    "accounts:password_reset_done": Access(anonymous=frozenset({200})),
    "accounts:password_reset_confirm": Access(anonymous=frozenset({200}), everyone=frozenset({200})),
    "accounts:password_reset_complete": Access(anonymous=frozenset({200})),
    "accounts:api_tokens": Access(),
    "accounts:api_token_revoke": Access(method="POST"),
    "checkout:cart": Access(),
    "checkout:cart_add": Access(method="POST", data={"quantity": "1"}),
    "checkout:start": Access(),
    "checkout:customer": Access(),
    "checkout:service_details": Access(),
    "checkout:service_details_check": Access(
        method="POST", data={"domain_prefix": "", "check": "domain"}, htmx=True
    ),
    "checkout:review": Access(),
    "checkout:authorization_verify": Access(
        method="POST", data={"default_domain": "contoso.com"}, own=True, htmx=True
    ),
    "checkout:authorization_status": Access(own=True, htmx=True),
    "checkout:authorization_email": Access(
        method="POST", data={"admin_email": "admin@contoso.com"}, own=True, htmx=True
    ),
    "checkout:authorization_sign_in": Access(method="POST", own=True),
    # Microsoft sends the administrator back here; without a sign-in started in this session it only says so.
    "checkout:authorization_signed_in": Access(),
    "orders:list": Access(),
    "orders:detail": Access(own=True),
    "orders:progress": Access(own=True, htmx=True),
    "dashboard:home": Access(),
    "dashboard:check_now": Access(method="POST", own=True),
    "dashboard:resend": Access(method="POST", data={"admin_email": "admin@contoso.com"}, own=True),
    "gdap:list": Access(),
    "gdap:detail": Access(own=True),
    "gdap:status": Access(own=True, htmx=True),
    # Microsoft calls it; the signature is the only key, so everyone without one gets 401.
    "csp:partner-center-webhook": Access(
        method="POST", anonymous=frozenset({401}), everyone=frozenset({401})
    ),
    # REST API v1 (issue 6).
    "api:token": Access(method="POST", anonymous=frozenset({400}), everyone=frozenset({400})),
    "api:tokens": Access(anonymous=API_ANON, everyone=frozenset({200})),
    # Another user's token id, or none at all, is simply not found among the caller's.
    "api:token-revoke": Access(method="DELETE", anonymous=API_ANON, everyone=frozenset({404})),
    "api:schema": Access(anonymous=frozenset({200, 401, 403}), everyone=frozenset({200})),
    "api:docs": Access(anonymous=frozenset({200, 302, 401, 403}), everyone=frozenset({200})),
    "api:docs-asset": Access(anonymous=frozenset({200, 404}), everyone=frozenset({200, 404})),
    "api:products": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "api:end-customers": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "api:end-customer": Access(anonymous=API_ANON, own=True),
    "api:domain": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "api:mpn-validations": Access(
        method="POST", data={"mpn_id": "1234567"}, anonymous=API_ANON, everyone=frozenset({200})
    ),
    "api:authorizations": Access(
        method="POST", data={"domain_prefix": ""}, anonymous=API_ANON, everyone=frozenset({400})
    ),
    "api:authorization": Access(anonymous=API_ANON, own=True),
    "api:authorization-verify": Access(
        method="POST", data={"default_domain": "contoso.com"}, anonymous=API_ANON, own=True
    ),
    "api:orders": Access(method="POST", data={}, anonymous=API_ANON, everyone=frozenset({400})),
    "api:order": Access(anonymous=API_ANON, own=True),
    # GDAP in the API (spec section 9): read-only for buyers.
    "api:gdap-role-templates": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "api:gdap-requests": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "api:gdap-request": Access(anonymous=API_ANON, own=True),
    # Event notifications (issue 15): pages under the dashboard and their API.
    "events:list": Access(),
    "events:detail": Access(own=True),
    "events:test": Access(method="POST", own=True),
    "events:toggle": Access(method="POST", own=True),
    "events:delete": Access(method="POST", own=True),  # without confirm: the confirmation page
    "events:rotate-secret": Access(method="POST", own=True),  # without confirm: the confirmation page
    "events:redeliver": Access(method="POST", own=True),
    "events_api:endpoints": Access(anonymous=API_ANON, everyone=frozenset({200})),
    "events_api:endpoint": Access(anonymous=API_ANON, own=True),
    "events_api:endpoint-test": Access(method="POST", anonymous=API_ANON, own=True),
    "events_api:endpoint-rotate-secret": Access(method="POST", anonymous=API_ANON, own=True),
    "events_api:endpoint-deliveries": Access(anonymous=API_ANON, own=True),
    "events_api:delivery-redeliver": Access(method="POST", anonymous=API_ANON, own=True),
}

OWN_PAGE = frozenset({200, 202, 204, 302})  # 202: queued for the worker (a test event)


def _routes():
    return [(name, pattern) for name, pattern in named_routes() if not name.startswith("admin:")]


def _request(client: Client, name: str, pattern, world, spec: Access):
    url = reverse(name, kwargs=world.kwargs_for(pattern))
    headers = {"HTTP_HX_REQUEST": "true"} if spec.htmx else {}
    if spec.method == "POST":
        is_json = name.startswith("api:") or name == "csp:partner-center-webhook"  # Microsoft posts JSON
        if is_json:
            return client.post(url, spec.data, content_type="application/json", **headers)
        return client.post(url, spec.data, **headers)
    if spec.method == "DELETE":
        return client.delete(url, **headers)
    return client.get(url, **headers)


def test_every_route_has_an_access_expectation():
    missing = sorted(name for name, _ in _routes() if name not in ACCESS)
    assert not missing, f"add these routes to ACCESS in {__file__}: {missing}"


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider"])
def test_each_persona_reaches_only_its_organisations_objects(
    persona, owner, teammate, outsider, sandbox, client
):
    world = build_world(owner)
    user = {"owner": owner, "teammate": teammate, "outsider": outsider}[persona]
    failures = []
    for name, pattern in _routes():
        spec = ACCESS[name]
        if name == "accounts:logout":
            continue  # signs the persona out; checked below
        client.force_login(user)
        calls_before = sum(sandbox_state(sandbox)["request_counts"].values())
        response = _request(client, name, pattern, world, spec)
        if spec.own and persona == "outsider":
            calls = sum(sandbox_state(sandbox)["request_counts"].values()) - calls_before
            if calls:
                failures.append(f"{spec.method} {name}: Microsoft was asked {calls} time(s) for an outsider")
        expected = spec.everyone
        if spec.own:
            expected = frozenset({404}) if persona == "outsider" else OWN_PAGE
        if name == "accounts:login":
            expected = frozenset({302})  # signed-in users are sent on
        if response.status_code not in expected:
            failures.append(f"{spec.method} {name}: {response.status_code}, expected {sorted(expected)}")
        if spec.own and persona == "outsider":
            body = response.content.decode(errors="replace")
            assert world.order.number not in body and "Contoso Ltd" not in body, name
    assert not failures, "\n".join(failures)


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(owner, sandbox, client):
    world = build_world(owner)
    failures = []
    for name, pattern in _routes():
        spec = ACCESS[name]
        response = _request(client, name, pattern, world, spec)
        if spec.anonymous == LOGIN:
            ok = response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        else:
            ok = response.status_code in spec.anonymous
        if not ok:
            failures.append(f"{spec.method} {name}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_outsider_lists_never_show_the_owners_objects(owner, outsider, sandbox, client):
    world = build_world(owner)
    client.force_login(outsider)
    for name in ("orders:list", "dashboard:home", "gdap:list"):
        body = client.get(reverse(name)).content.decode()
        assert world.order.number not in body
        assert "contoso.onmicrosoft.com" not in body and "Contoso Ltd" not in body


def test_admin_is_for_distributor_staff_only(owner, outsider, staff_user, client):
    admin_routes = [
        (name, pattern)
        for name, pattern in named_routes()
        if name.startswith("admin:") and not pattern.pattern.regex.groupindex and name != "admin:login"
    ]
    assert len(admin_routes) > 10
    for user in (owner, outsider):
        client.force_login(user)
        for name, _ in admin_routes:
            response = client.get(reverse(name))
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("admin:login")) or name == "admin:logout", name
    client.force_login(staff_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_logout_needs_a_post_and_signs_out(owner, client):
    client.force_login(owner)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    response = client.get(reverse("dashboard:home"))
    assert response["Location"].startswith(reverse("accounts:login"))
