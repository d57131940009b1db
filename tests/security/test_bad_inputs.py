"""A corpus of bad inputs for every form field and API field: 4xx or the form again with a message, never a
500, and markup never rendered."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from storefront.accounts.tokens import api_token_create
from storefront.checkout.models import CheckoutDraft
from storefront.customers.forms import PROFILE_FIELDS
from tests.checkout.conftest import AGREEMENT, NEW_CUSTOMER
from tests.security.routes import route_names
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

MARKUP = "<script>alert(1)</script>"
CORPUS = [
    "",
    "   ",
    "x" * 5000,
    "Zoë Ünïcødé 漢字 🙂",
    MARKUP,
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "a\x00b",
    "-1",
    "99999999999999999999999",
    "1e309",
    "../../etc/passwd",
    "\u202etxt.exe",
]
WRONG_TYPES = [None, 0, -1, 1.5, True, [], ["a"], {"a": 1}]
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror")


def _assert_safe(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    body = response.content.decode(errors="replace")
    if "html" in response.get("Content-Type", ""):
        for raw in RAW_MARKUP:
            assert raw not in body, f"{what}: markup rendered unescaped"


def _form_cases(world, product_pk):
    """(route, url, valid data, fields, htmx) for every storefront form a buyer posts."""
    return [
        ("cart_add", reverse("checkout:cart_add", args=[product_pk]), {}, ["quantity"], False),
        ("cart", reverse("checkout:cart"), {}, [f"quantity-{product_pk}", "action"], False),
        (
            "customer",
            reverse("checkout:customer"),
            NEW_CUSTOMER,
            ["end_customer"] + [f"new-{f}" for f in PROFILE_FIELDS],
            False,
        ),
        (
            "service_details",
            reverse("checkout:service_details"),
            {"domain_prefix": "brandnewco", "mpn_id": "1234567"},
            ["domain_prefix", "mpn_id", "existing_tenant"],
            False,
        ),
        (
            "service_details_check",
            reverse("checkout:service_details_check"),
            {"domain_prefix": "brandnewco", "mpn_id": "1234567", "check": "domain"},
            ["domain_prefix", "mpn_id", "check", "existing_tenant"],
            True,
        ),
        (
            "authorization_verify",
            reverse("checkout:authorization_verify", args=[world.authorization.pk]),
            {"default_domain": "contoso.com"},
            ["default_domain"],
            True,
        ),
        (
            "authorization_email",
            reverse("checkout:authorization_email", args=[world.authorization.pk]),
            {"admin_email": "admin@contoso.com"},
            ["admin_email"],
            True,
        ),
        (
            "review",
            reverse("checkout:review"),
            AGREEMENT,
            ["first_name", "last_name", "email", "phone", "accepted"],
            False,
        ),
    ]


def _ready_for_review(draft: CheckoutDraft) -> None:
    CheckoutDraft.objects.filter(pk=draft.pk).update(
        status=CheckoutDraft.Status.OPEN,
        order=None,
        lines=draft.lines,
        end_customer=draft.end_customer,
        domain_prefix="brandnewco",
        existing_tenant=False,
        mpn_id="1234567",
        authorization=None,
        service_details_done=True,
    )


def test_every_storefront_form_field_survives_the_corpus(client, owner, owner_draft, sandbox):
    world = build_world(owner)
    client.force_login(owner)
    for route, url, valid, fields, htmx in _form_cases(
        world, owner_draft.lines and next(iter(owner_draft.lines))
    ):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        for field in fields:
            for value in CORPUS:
                if route == "review":
                    _ready_for_review(owner_draft)
                response = client.post(url, {**valid, field: value}, **headers)
                _assert_safe(response, f"{route}.{field}={value[:20]!r}")
    for name in (
        "checkout:cart",
        "checkout:customer",
        "checkout:service_details",
        "dashboard:home",
        "orders:list",
    ):
        _assert_safe(client.get(reverse(name)), f"GET {name} after the corpus")


def test_sign_in_fields_survive_the_corpus(owner):
    client = Client()
    for field in ("username", "password", "next"):
        for value in CORPUS:
            data = {"username": owner.email, "password": "wrong", field: value}
            _assert_safe(client.post(reverse("accounts:login"), data), f"login.{field}")
            from axes.utils import reset

            reset()  # stay below the sign-in lockout


def test_gdap_request_form_survives_the_corpus(client, owner, sandbox):
    if "gdap:new" not in route_names():
        pytest.skip("GDAP pages are not routed")
    client.force_login(owner)
    valid = {"customer_tenant_id": "", "role_template": "", "duration_days": "90"}
    for field in ("customer_tenant_id", "role_template", "duration_days", "auto_extend"):
        for value in CORPUS:
            _assert_safe(client.post(reverse("gdap:new"), {**valid, field: value}), f"gdap.{field}")


API_BODIES = {
    "api:token": ({}, {"username": "owner@fabrikam.example", "password": "wrong"}),
    "api:end-customers": (
        {},
        {
            f: v
            for f, v in {**{k.removeprefix("new-"): v for k, v in NEW_CUSTOMER.items()}}.items()
            if f != "end_customer"
        },
    ),
    "api:mpn-validations": ({}, {"mpn_id": "1234567"}),
    "api:authorizations": ({}, {"domain_prefix": "contoso", "mpn_id": "1234567"}),
    "api:authorization-verify": ("authorization", {"default_domain": "contoso.com"}),
    "api:orders": (
        {},
        {
            "lines": [{"product": 1, "quantity": 1}],
            "end_customer": 1,
            "domain_prefix": "brandnewco",
            "mpn_id": "1234567",
            "customer_agreement": {**AGREEMENT, "accepted": True, "phone": ""},
        },
    ),
    "api:gdap-requests": (
        {},
        {
            "customer_tenant_id": "33333333-3333-4333-8333-000000000001",
            "role_template": 1,
            "duration_days": 30,
            "auto_extend": False,
        },
    ),
}


def _api_safe(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:200]!r}"
    if response.status_code >= 400 and response.status_code != 429:
        body = response.json()
        assert body.get("message"), f"{what}: no message in {body}"
    assert response["Content-Type"].startswith("application/json"), what


def test_every_api_field_survives_the_corpus_and_wrong_types(owner, owner_draft, sandbox, settings):
    names = route_names()
    if "api:orders" not in names:
        pytest.skip("the REST API is not routed yet")
    world = build_world(owner)
    _, secret = api_token_create(user=owner, name="corpus")
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    from django.core.cache import cache

    for name, (args, valid) in API_BODIES.items():
        if name not in names:
            continue
        if name == "api:orders":
            valid = {
                **valid,
                "lines": [{"product": world.product.pk, "quantity": 1}],
                "end_customer": world.end_customer.pk,
            }
        url = reverse(name, args=[world.authorization.pk] if args == "authorization" else [])
        for field in valid:
            for n, value in enumerate([*CORPUS, *WRONG_TYPES]):
                cache.clear()  # lookups are throttled per user; the corpus is not an attack on the throttle
                body = {**valid, field: value}
                response = client.post(
                    url,
                    json.dumps(body),
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"corpus-{field}-{n}",
                )
                _api_safe(response, f"{name}.{field}={value!r:.30}")
        for raw in ("{not json", "[]", "null", '"text"', "\x00"):
            response = client.post(url, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="raw")
            _api_safe(response, f"{name} raw {raw!r}")
    if "api:domain" in names:
        for value in CORPUS:
            if not value or "\x00" in value:
                continue
            cache.clear()
            response = client.get(f"/api/v1/domains/{value}/")
            _api_safe(response, f"api:domain {value[:20]!r}")
    for value in ("", "x" * 200, MARKUP, "' OR 1=1 --", "\x00"):
        response = client.post(
            reverse("api:orders"),
            json.dumps(API_BODIES["api:orders"][1]),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=value,
        )
        _api_safe(response, f"Idempotency-Key {value[:20]!r}")
