"""The figures measured in-process (run by bench/run.py under bench.settings against the bench database):
Partner Center calls per journey, SQL queries per page as data grows, and one polling pass over 10,000."""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import timedelta

import django

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import measure  # noqa: E402
from bench.data import bench_users  # noqa: E402


def journeys(sandbox_url: str) -> dict[str, dict[str, int]]:
    reseller, direct = bench_users(fresh_drafts=True)
    results = {}
    with measure.eager_tasks():
        client = Client()
        client.force_login(reseller)
        calls, _ = measure.journey_new_tenant(client, lambda: _nothing())
        results["new tenant (reseller)"] = calls
        reseller, direct = bench_users(fresh_drafts=True)
        client.force_login(reseller)
        results["existing tenant (reseller)"] = measure.journey_existing_tenant(
            client, _nothing, sandbox_url=sandbox_url, domain="contoso.com", reseller=True
        )
        client = Client()
        client.force_login(direct)
        results["existing tenant (direct)"] = measure.journey_existing_tenant(
            client, _nothing, sandbox_url=sandbox_url, domain="wingtiptoys.com", reseller=False
        )
    return {k: {"calls": v, "minimum": measure.CONTRACT_MINIMUM[k]} for k, v in results.items()}


class _nothing:
    """Outside a test transaction on_commit runs at once: nothing to capture."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def queries() -> dict[str, dict[str, int]]:
    from storefront.checkout.models import CheckoutDraft

    reseller, _ = bench_users(fresh_drafts=True)
    draft = CheckoutDraft.objects.get(user=reseller, status="open")
    CheckoutDraft.objects.filter(pk=draft.pk).update(domain_prefix="flatco", mpn_id="1234567")
    draft.refresh_from_db()
    client = Client()
    client.force_login(reseller)
    table: dict[str, dict[str, int]] = {}
    measure.grow_products(10)
    small = measure.page_queries(client, draft)
    measure.grow_products(990)
    for name, count in measure.page_queries(client, draft).items():
        table[name] = {"10 products": small[name], "1,000 products": count}
    measure.grow_authorizations(reseller.organization, 10)
    small = measure.page_queries(client, draft)
    measure.grow_authorizations(reseller.organization, 9990)
    for name, count in measure.page_queries(client, draft).items():
        table[name].update({"10 authorizations": small[name], "10,000 authorizations": count})
    return table


def row_parts(rounds: int = 9, calls: int = 200) -> dict[str, float]:
    """CPU ms in this process of each piece of work the pages do beyond the bare view (median of `rounds`), to
    read the load table's ratios against: what a row cannot do without, and what Django's ORM costs for it."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.cache import cache
    from django.db import connection
    from django.template.loader import get_template
    from django.test import RequestFactory

    from csp.models import ResellerMpnId
    from storefront.checkout import services, steps

    reseller, _ = bench_users(fresh_drafts=True)
    draft = services.checkout_draft_get(user=reseller, related=())
    result = services.service_details_shown(draft=draft)
    request = RequestFactory().post("/")
    request.user, request.session = reseller, {}
    request._messages = FallbackStorage(request)
    cache.set("bench:part", (True, None), 60)
    prefixes = ["benchparta", "benchpartb"]
    mpn = {"organization_id": reseller.organization_id, "mpn_id": reseller.organization.mpn_id}

    def draft_write():
        prefixes.reverse()
        draft.domain_prefix = prefixes[0]
        draft.save(
            update_fields=["domain_prefix", "existing_tenant", "mpn_id", "authorization", "updated_at"]
        )

    def raw_exists():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM csp_resellermpnid WHERE organization_id = %s AND mpn_id = %s LIMIT 1",
                [mpn["organization_id"], mpn["mpn_id"]],
            )
            cursor.fetchone()

    regions, page = (
        get_template("checkout/_regions_check.html"),
        get_template("checkout/service_details.html"),
    )
    parts = {
        "draft read (the htmx checks)": lambda: services.checkout_draft_get(user=reseller, related=()),
        "draft read with its end-customer (the page)": lambda: services.checkout_draft_get(user=reseller),
        "draft write (what the buyer typed)": draft_write,
        "cache read (Redis: a prefix already checked)": lambda: cache.get("bench:part"),
        "regions template (the htmx answer)": lambda: regions.render(
            {"draft": draft, "result": result}, request
        ),
        "Service Details template (the page)": lambda: page.render(
            {"draft": draft, "result": result, "steps": steps.progress("service_details")}, request
        ),
        "one ORM query (EXISTS on an index)": lambda: ResellerMpnId.objects.filter(**mpn).exists(),
        "the same query in raw SQL": raw_exists,
    }
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(rounds):
        for name, part in parts.items():
            started = time.process_time()
            for _ in range(calls):
                part()
            times[name].append((time.process_time() - started) * 1000 / calls)
    return {name: round(sorted(values)[len(values) // 2], 3) for name, values in times.items()}


def polling_pass(sandbox_url: str, pending: int = 10_000, accepted: int = 100) -> dict[str, float] | None:
    try:
        from csp import polling
    except ImportError:
        return None
    from csp.connection import partner_center
    from csp.models import TenantAuthorization
    from storefront.accounts.models import Organization

    control = f"{sandbox_url}/_sandbox"
    tenants = requests.post(
        f"{control}/tenants/bulk", json={"count": accepted, "prefix": "pollb"}, timeout=60
    )
    tenants = tenants.json()["tenants"]
    for tenant in tenants:
        requests.post(f"{control}/accept", json={"domain": tenant["domain"]}, timeout=10).raise_for_status()
    customers = requests.get(f"{control}/state", timeout=30).json()["counts"]["customers"]
    organization = Organization.objects.filter(kind="direct").first()
    TenantAuthorization.objects.filter(status="pending").delete()
    now = timezone.now()
    common = {"expires_at": now + timedelta(days=30), "next_check_at": now - timedelta(minutes=1)}
    rows = [
        TenantAuthorization(
            kind="direct",
            organization=organization,
            domain_prefix=t["domain"].split(".")[0],
            default_domain=t["domain"],
            expected_tenant_id=t["tenant_id"],
            tenant_was_customer=False,  # new customers when asked: their acceptance proves the tenant (trust)
            **common,
        )
        for t in tenants
    ]
    rows += [
        TenantAuthorization(
            kind="direct",
            organization=organization,
            domain_prefix=f"waitingb{n}",
            default_domain=f"waitingb{n}.onmicrosoft.com",
            expected_tenant_id=str(uuid.uuid4()),
            **common,
        )
        for n in range(pending - accepted)
    ]
    TenantAuthorization.objects.bulk_create(rows, batch_size=2000)
    client = partner_center()
    client.customers_page(size=1)
    before = client.call_count
    started = time.monotonic()
    report = polling.authorizations_poll_pass()
    return {
        "pending": pending,
        "accepted": accepted,
        "customers at Microsoft": customers,
        "seconds": round(time.monotonic() - started, 2),
        "partner_center_calls": client.call_count - before,
        "verified": report.verified,
        "customer_pages": report.customer_pages,
    }


if __name__ == "__main__":
    sandbox = settings.PARTNER_CENTER_SANDBOX_URL
    measure.warm_up()
    out = {
        "journeys": journeys(sandbox),
        "parts": row_parts(),
        "queries": queries(),
        "polling": polling_pass(sandbox),
    }
    sys.stdout.write("FIGURES " + json.dumps(out) + "\n")
