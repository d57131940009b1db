"""A corpus of bad inputs for every form field and API field: 4xx or the form again with a message, never a
500, and markup never rendered."""

from __future__ import annotations

import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from storefront.accounts.tokens import api_token_create
from storefront.checkout.models import CheckoutDraft
from storefront.customers.forms import PROFILE_FIELDS
from storefront.customers.models import EndCustomer
from tests.checkout.conftest import AGREEMENT, NEW_CUSTOMER
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN
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
    "line\nbreak\ttab",
    "&lt;script&gt;",
    "http://evil.example/reset",
    "www.evil.example",
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
            {"domain_prefix": "brandnewco", "mpn_id": FABRIKAM_MPN},
            ["domain_prefix", "mpn_id", "existing_tenant"],
            False,
        ),
        (
            "service_details_check",
            reverse("checkout:service_details_check"),
            {"domain_prefix": "brandnewco", "mpn_id": FABRIKAM_MPN, "check": "domain"},
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
        mpn_id=FABRIKAM_MPN,
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
    "api:mpn-validations": ({}, {"mpn_id": FABRIKAM_MPN}),
    "api:authorizations": ({}, {"domain_prefix": "contoso", "mpn_id": FABRIKAM_MPN}),
    "api:authorization-verify": ("authorization", {"default_domain": "contoso.com"}),
    "api:orders": (
        {},
        {
            "lines": [{"product": 1, "quantity": 1}],
            "end_customer": 1,
            "domain_prefix": "brandnewco",
            "mpn_id": FABRIKAM_MPN,
            "customer_agreement": {**AGREEMENT, "accepted": True, "phone": ""},
        },
    ),
    "api:gdap-requests": (
        {},
        {
            "customer_tenant_id": CONTOSO_TENANT,
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
    world = build_world(owner)
    _, secret = api_token_create(user=owner, name="corpus")
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    from django.core.cache import cache

    for name, (args, valid) in API_BODIES.items():  # a route renamed or gone fails in reverse(), never skips
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
    assert reverse("api:domain", args=["contoso"]) == "/api/v1/domains/contoso/"  # the URL the corpus builds
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


# Data Microsoft would refuse, refused at the field: (field, typed value, the message's words) --------------------
REFUSED_AT_THE_FIELD = [
    ("company_name", "Tailwind\u202eTraders", "invisible character"),
    ("company_name", "Tailwind\x07Traders", "invisible character"),
    ("company_name", "Tailwind <b>Traders</b>", "cannot contain < or >"),
    ("company_name", "Reset your password at http://evil.example", "web addresses"),
    ("company_name", "www.tailwind-traders", "web addresses"),
    ("company_name", "Tailwind evil.example", "web addresses"),
    ("first_name", "Sam\u2066", "invisible character"),
    ("last_name", "<script>Smith", "cannot contain < or >"),
    ("address_line1", "1 Main St\nSuite 2", "invisible character"),
    ("address_line1", "1 Main St<script>", "cannot contain < or >"),
    ("address_line2", "Suite \u202e2", "invisible character"),
    ("city", "Red&#109;ond", "cannot contain < or >"),
    ("city", "Redmond\x1b", "invisible character"),
    ("state", "Washington", "two-letter state code"),
    ("state", "W\u202eA", "invisible character"),
    ("state", "", "two-letter state code"),
]
REFUSED_BY_COUNTRY = [
    ({"country": "CA", "state": "Ontario", "postal_code": "K1A 0B1"}, "state", "two-letter province code"),
    ({"country": "AU", "state": "NSW", "postal_code": "2000"}, "state", "full name"),
    ({"country": "AU", "state": "", "postal_code": "2000"}, "state", "full name"),
    (
        {"country": "DE", "address_line1": "", "city": "", "state": "", "postal_code": ""},
        "address_line1",
        "street address for this country",
    ),
]
ACCEPTED_BY_COUNTRY = [
    {"country": "CA", "state": "on", "postal_code": "K1A 0B1"},
    {"country": "AU", "state": "new south wales", "postal_code": "2000"},
    {"company_name": "J.P. Morgan & Co.", "country": "DE", "state": "", "postal_code": "10115"},
    {"company_name": "Zoë Ünïcødé 漢字 GmbH", "country": "GB", "state": "", "postal_code": "SW1A 1AA"},
]


def _profile(**changes) -> dict[str, str]:
    base = {k.removeprefix("new-"): v for k, v in NEW_CUSTOMER.items() if k != "end_customer"}
    return {**base, **changes}


def _field_errors(response, field: str) -> list[str]:
    return [str(m) for m in response.context["form"].errors.get(field, [])]


def test_data_microsoft_would_refuse_is_refused_next_to_its_field_keeping_what_was_typed(
    client, owner, owner_draft
):
    client.force_login(owner)
    before = EndCustomer.objects.count()
    cases = [(_profile(**{f: v}), f, words) for f, v, words in REFUSED_AT_THE_FIELD]
    cases += [(_profile(**changes), f, words) for changes, f, words in REFUSED_BY_COUNTRY]
    for data, field, words in cases:
        posted = {"end_customer": "new", **{f"new-{k}": v for k, v in data.items()}}
        response = client.post(reverse("checkout:customer"), posted)
        what = f"{field}={data[field]!r}"
        assert response.status_code == 200, what
        assert any(words in m for m in _field_errors(response, field)), (
            what,
            response.context["form"].errors,
        )
        page = response.content.decode()
        for name, value in data.items():
            if name != "country" and value:
                assert f'value="{html.escape(value)}"' in page, f"{what}: {name} typed value lost"
    assert EndCustomer.objects.count() == before


def test_addresses_microsoft_accepts_pass_the_same_rules(client, owner, owner_draft):
    client.force_login(owner)
    for changes in ACCEPTED_BY_COUNTRY:
        posted = {"end_customer": "new", **{f"new-{k}": v for k, v in _profile(**changes).items()}}
        response = client.post(reverse("checkout:customer"), posted)
        assert response.status_code == 302, (changes, response.context and response.context["form"].errors)
    assert EndCustomer.objects.filter(state__in=["ON", "New South Wales"]).count() == 2


def test_the_api_refuses_the_same_data_with_the_field_named(owner):
    _, secret = api_token_create(user=owner, name="bad inputs")
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    before = EndCustomer.objects.count()
    cases = [(_profile(**{f: v}), f, words) for f, v, words in REFUSED_AT_THE_FIELD]
    cases += [(_profile(**changes), f, words) for changes, f, words in REFUSED_BY_COUNTRY]
    for data, field, words in cases:
        response = client.post(reverse("api:end-customers"), data, content_type="application/json")
        assert response.status_code == 400, (field, data[field], response.content)
        body = response.json()
        assert body["code"] == "invalid"
        assert any(words in m for m in body["fields"].get(field, [])), (field, body)
    assert EndCustomer.objects.count() == before
