"""Exact figures shared by the tests and `make bench`: SQL queries per page and Partner Center calls per checkout.

Everything here drives the real views through Django's test client and the real sandbox over HTTP, so the
numbers are what a buyer's browser costs. The caller provides the database (a test database, or the bench's
fresh PostgreSQL database) and the sandbox URL in settings.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

AGREEMENT = {"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", "accepted": "on"}
FABRIKAM_TENANT = "22222222-2222-4222-8222-222222222222"
PAGES = ("catalog", "cart", "customer", "service_details", "domain_check", "review", "dashboard", "orders")
OnCommit = Callable[[], contextlib.AbstractContextManager]


def _count(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def page_queries(client: Client, draft) -> dict[str, int]:
    """SQL queries of each page for a signed-in reseller whose draft is ready for Review (caches warm)."""
    from storefront.checkout.models import CheckoutDraft

    def get(name: str) -> Callable[[], object]:
        def run():
            response = client.get(reverse(name))
            assert response.status_code == 200, (name, response.status_code)

        return run

    def check():
        response = client.post(
            reverse("checkout:service_details_check"),
            {"domain_prefix": draft.domain_prefix, "mpn_id": "1234567", "check": "domain"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200

    def ready():
        CheckoutDraft.objects.filter(pk=draft.pk).update(service_details_done=True)

    steps = {
        "catalog": get("catalog"),
        "cart": get("checkout:cart"),
        "customer": get("checkout:customer"),
        "service_details": get("checkout:service_details"),
        "domain_check": check,
        "review": get("checkout:review"),
        "dashboard": get("dashboard:home"),
        "orders": get("orders:list"),
    }
    counts = {}
    with _in_process_copies_kept():
        for name, run in steps.items():
            ready()
            run()  # warm: domain check and network caches, the session
            ready()
            counts[name] = _count(run)
    return counts


@contextlib.contextmanager
def _in_process_copies_kept() -> Iterator[None]:
    """Keeps the in-process copies for the whole count, so a copy cannot expire between the warm-up and the
    counted request (a count must not depend on how fast the machine is)."""
    from unittest import mock

    from common import singleton

    with mock.patch.object(singleton, "COPY_SECONDS", 3600):
        singleton.forget_loaded_settings()
        yield
    singleton.forget_loaded_settings()


def grow_products(count: int) -> None:
    """Adds `count` active products to the catalog."""
    from storefront.catalog.models import Product

    start = Product.objects.count()
    Product.objects.bulk_create(
        Product(
            name=f"Bench Plan {n}",
            product_id=f"CFQ7BEN{n:05d}",
            sku_id="0001",
            availability_id=f"CFQ7AV{n:06d}",
            term_duration="P1Y",
            billing_cycle="monthly",
            price=Decimal("6.00"),
            currency="USD",
            is_active=True,
        )
        for n in range(start, start + count)
    )


def grow_authorizations(organization, count: int, *, pending_ratio: float = 0.5) -> None:
    """Adds `count` tenant authorizations (half pending) to an organisation."""
    from csp.models import TenantAuthorization

    now = timezone.now()
    start = TenantAuthorization.objects.count()
    TenantAuthorization.objects.bulk_create(
        (
            TenantAuthorization(
                kind=TenantAuthorization.Kind.INDIRECT_RESELLER,
                status="pending" if n < count * pending_ratio else "verified",
                organization=organization,
                domain_prefix=f"grown{n}",
                default_domain=f"grown{n}.onmicrosoft.com",
                reseller_mpn_id=organization.mpn_id,
                reseller_tenant_id=FABRIKAM_TENANT,
                authorization_link="https://admin.microsoft.com/Adminportal/Home?invType=IndirectResellerRelationship",
                expires_at=now + timedelta(days=30),
            )
            for n in range(start, start + count)
        ),
        batch_size=2000,
    )


# Partner Center calls per checkout -------------------------------------------------------------------------------


def _calls() -> int:
    from csp.connection import partner_center

    return partner_center().call_count


def calls_made_since(count_before: int) -> list[str]:
    """The last calls the client made (method and path), for the table in RESULTS.md."""
    from csp.connection import partner_center

    client = partner_center()
    return [f"{method} {path}" for method, path in list(client.calls)[count_before - client.call_count :]]


def warm_up() -> None:
    """Token and reseller network in the caches, as in a running storefront: a checkout does not pay for them."""
    from csp import mpn_ids
    from csp.connection import partner_center

    mpn_ids.network_refresh()
    partner_center().customers_page(size=1)


def journey_new_tenant(client: Client, on_commit: OnCommit) -> tuple[int, object]:
    """Reseller, new tenant: type the prefix, Checkout, Review, Place order, provisioning in the worker."""
    prefix = "nt" + uuid.uuid4().hex[:12]
    before = _calls()
    client.get(reverse("checkout:service_details"))
    client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": prefix, "mpn_id": "1234567", "check": "domain"},
        HTTP_HX_REQUEST="true",
    )
    response = client.post(
        reverse("checkout:service_details"), {"domain_prefix": prefix, "mpn_id": "1234567"}
    )
    assert response["Location"] == reverse("checkout:review"), response.status_code
    client.get(reverse("checkout:review"))
    with on_commit():
        client.post(reverse("checkout:review"), AGREEMENT)
    return _calls() - before, prefix


def journey_existing_tenant(
    client: Client, on_commit: OnCommit, *, sandbox_url: str, domain: str, reseller: bool
) -> int:
    """Existing tenant: tick the box (authorization link), the admin accepts, Verify, Checkout, Place order."""
    prefix = domain.split(".")[0]
    mpn = {"mpn_id": "1234567"} if reseller else {}
    before = _calls()
    client.get(reverse("checkout:service_details"))
    client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": prefix, "existing_tenant": "on", "check": "box", **mpn},
        HTTP_HX_REQUEST="true",
    )
    from csp.models import TenantAuthorization

    authorization = TenantAuthorization.objects.filter(domain_prefix=prefix).latest("pk")
    body = {"domain": domain, **({"reseller_tenant_id": FABRIKAM_TENANT} if reseller else {})}
    requests.post(f"{sandbox_url}/_sandbox/accept", json=body, timeout=10).raise_for_status()
    response = client.post(
        reverse("checkout:authorization_verify", args=[authorization.pk]),
        {"default_domain": domain},
        HTTP_HX_REQUEST="true",
    )
    assert "verified" in response.content.decode(), response.content[:300]
    response = client.post(
        reverse("checkout:service_details"), {"domain_prefix": prefix, "existing_tenant": "on", **mpn}
    )
    assert response["Location"] == reverse("checkout:review"), response.status_code
    client.get(reverse("checkout:review"))
    with on_commit():
        client.post(reverse("checkout:review"), AGREEMENT)
    return _calls() - before


# What Microsoft's contract needs at the least for each journey (see bench/RESULTS.md for the reasoning).
CONTRACT_MINIMUM = {
    # domain check (Partner Center) + sign-in discovery, customer, agreement template, agreement, cart, checkout
    "new tenant (reseller)": 7,
    # link, tenant of the domain, customer, its relationships, agreement template, agreement, cart, checkout
    "existing tenant (reseller)": 8,
    # link, tenant of the domain, was it already a customer (the trust boundary), customer, its reseller
    # relationships (none, or the link proves nothing), agreement template, agreement, cart, checkout
    "existing tenant (direct)": 9,
}


@contextlib.contextmanager
def eager_tasks() -> Iterator[None]:
    from storefront.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
