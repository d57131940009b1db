"""10,000 pending authorizations with 100 accepted: one pass costs the customer pages plus a constant per match."""

import math
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from csp import polling
from csp.connection import partner_center
from csp.models import TenantAuthorization
from tests.factories import OrganizationFactory
from tests.sandbox_ids import FABRIKAM_MPN, FABRIKAM_TENANT

pytestmark = pytest.mark.django_db
PENDING = 10_000
ACCEPTED = 100
PAGE_SIZE = 40  # the sandbox's largest page, made small so the pass has to follow several pages


def test_pass_cost_follows_the_accepted_ones_not_the_pending_ones(sandbox, control, reseller):
    control("config", {"customers_max_page_size": PAGE_SIZE})
    accepted = control("tenants/bulk", {"count": ACCEPTED, "prefix": "scale"})["tenants"]
    indirect = accepted[: ACCEPTED // 2]
    direct = accepted[ACCEPTED // 2 :]
    for tenant in indirect:
        control("accept", {"domain": tenant["domain"], "reseller_tenant_id": FABRIKAM_TENANT})
    for tenant in direct:
        control("accept", {"domain": tenant["domain"]})
    customers = requests.get(f"{sandbox.url}/_sandbox/state", timeout=10).json()["counts"]["customers"]

    direct_org = OrganizationFactory(kind="direct", mpn_id="")
    now = timezone.now()
    common = {"expires_at": now + timedelta(days=30), "next_check_at": now - timedelta(minutes=1)}
    rows = [
        TenantAuthorization(
            kind=TenantAuthorization.Kind.INDIRECT_RESELLER,
            organization=reseller,
            domain_prefix=t["domain"].split(".")[0],
            default_domain=t["domain"],
            expected_tenant_id=t["tenant_id"],
            reseller_tenant_id=FABRIKAM_TENANT,
            reseller_mpn_id=FABRIKAM_MPN,
            **common,
        )
        for t in indirect
    ]
    rows += [
        TenantAuthorization(
            kind=TenantAuthorization.Kind.DIRECT,
            tenant_was_customer=False,
            organization=direct_org,
            domain_prefix=t["domain"].split(".")[0],
            default_domain=t["domain"],
            expected_tenant_id=t["tenant_id"],
            **common,
        )
        for t in direct
    ]
    waiting = control("tenants/bulk", {"count": PENDING - ACCEPTED, "prefix": "waiting"})["tenants"]
    rows += [
        TenantAuthorization(
            kind=TenantAuthorization.Kind.INDIRECT_RESELLER,
            organization=reseller,
            domain_prefix=t["domain"].split(".")[0],
            default_domain=t["domain"],
            expected_tenant_id=t["tenant_id"],
            reseller_tenant_id=FABRIKAM_TENANT,
            reseller_mpn_id=FABRIKAM_MPN,
            **common,
        )
        for t in waiting
    ]
    TenantAuthorization.objects.bulk_create(rows, batch_size=1000)
    accepted_ids = {t["tenant_id"] for t in accepted}

    client = partner_center()
    client.customers_page(size=1)  # the token, fetched once per process, is not part of a pass
    before = client.call_count
    started = time.monotonic()
    report = polling.authorizations_poll_pass()
    elapsed = time.monotonic() - started
    calls = client.call_count - before

    pages = math.ceil(customers / PAGE_SIZE)
    print(f"\n{PENDING} pending, {ACCEPTED} accepted, {customers} customers: {report}; {elapsed:.1f}s")
    assert report.claimed == report.checked == PENDING
    assert report.customer_pages == pages
    # per match, the customer's reseller relationships: an indirect one needs its reseller there, a direct one none
    assert calls == report.partner_center_calls == pages + ACCEPTED
    verified = set(
        TenantAuthorization.objects.filter(status=TenantAuthorization.Status.VERIFIED).values_list(
            "customer_tenant_id", flat=True
        )
    )
    assert verified == accepted_ids
    assert report.verified == ACCEPTED
    assert report.backed_off == PENDING - ACCEPTED
    waiting = TenantAuthorization.objects.filter(status=TenantAuthorization.Status.PENDING)
    assert waiting.filter(check_attempts=1, claimed_until__isnull=True).count() == PENDING - ACCEPTED

    # the next pass finds nothing due: no call at all
    again_before = client.call_count
    assert polling.authorizations_poll_pass().claimed == 0
    assert client.call_count == again_before
