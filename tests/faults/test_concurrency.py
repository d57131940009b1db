"""Concurrency on PostgreSQL: many Place order submits of one cart make one order; two polling workers never
process the same authorization twice."""

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from billing.models import Order
from csp import mpn_ids, tasks
from csp.models import AuthorizationTransition, TenantAuthorization
from storefront.checkout import services
from storefront.checkout.models import CheckoutDraft
from tests.factories import DirectCustomerFactory
from tests.sandbox_ids import FABRIKAM_MPN

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AGREEMENT = services.AgreementAcceptance(
    accepted=True, first_name="Jane", last_name="Doe", email="jane@contoso.example"
)


def _together(count: int, work) -> tuple[list, list]:
    """Runs `work` in `count` threads released at the same instant; each thread has its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            value = work()
            with lock:
                results.append(value)
        except Exception as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def test_twenty_simultaneous_place_order_submits_of_one_cart_make_one_order(
    owner_draft, sandbox, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(tasks.order_place, "delay", lambda order_id: enqueued.append(order_id))
    CheckoutDraft.objects.filter(pk=owner_draft.pk).update(
        domain_prefix="racerco", mpn_id=FABRIKAM_MPN, existing_tenant=False, service_details_done=True
    )
    mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN)  # the network cache is warm, as it is in production

    def place():
        draft = CheckoutDraft.objects.select_related("user", "organization").get(pk=owner_draft.pk)
        order, _ = services.checkout_place_order(draft=draft, agreement=AGREEMENT)
        return order.pk

    results, errors = _together(20, place)
    assert not errors, errors
    assert len(results) == 20 and len(set(results)) == 1
    assert Order.objects.count() == 1
    assert enqueued == results[:1]
    draft = CheckoutDraft.objects.get(pk=owner_draft.pk)
    assert draft.status == CheckoutDraft.Status.ORDERED and draft.order_id == results[0]


def test_twenty_simultaneous_api_style_submits_with_one_key_make_one_order(
    owner_draft, owner, sandbox, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(tasks.order_place, "delay", lambda order_id: enqueued.append(order_id))
    mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN)
    lines = dict(owner_draft.lines)

    def submit():
        order, created = services.order_submit(
            user=owner,
            lines=lines,
            end_customer_id=owner_draft.end_customer_id,
            domain_prefix="racerapico",
            authorization_id=None,
            mpn_id=FABRIKAM_MPN,
            agreement=AGREEMENT,
            idempotency_key="same-key-20",
        )
        return order.pk, created

    results, errors = _together(20, submit)
    assert not errors, errors
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Order.objects.count() == 1 and len(enqueued) == 1


ACCEPTED = 40


def test_two_workers_polling_the_same_authorizations_never_double_process(sandbox):
    from csp import polling

    control = f"{sandbox.url}/_sandbox"
    tenants = requests.post(
        f"{control}/tenants/bulk", json={"count": ACCEPTED, "prefix": "twopass"}, timeout=30
    )
    tenants = tenants.json()["tenants"]
    for tenant in tenants:
        requests.post(f"{control}/accept", json={"domain": tenant["domain"]}, timeout=10).raise_for_status()
    organization = DirectCustomerFactory()
    now = timezone.now()
    TenantAuthorization.objects.bulk_create(
        TenantAuthorization(
            kind=TenantAuthorization.Kind.DIRECT,
            tenant_was_customer=False,
            organization=organization,
            domain_prefix=t["domain"].split(".")[0],
            default_domain=t["domain"],
            expected_tenant_id=t["tenant_id"],
            expires_at=now + timedelta(days=30),
            next_check_at=now - timedelta(minutes=1),
        )
        for t in tenants
    )

    reports, errors = _together(2, lambda: polling.authorizations_poll_pass(batch_size=ACCEPTED))
    assert not errors, errors
    assert sum(r.claimed for r in reports) == ACCEPTED  # no row claimed by both
    assert sum(r.verified for r in reports) == ACCEPTED
    assert TenantAuthorization.objects.filter(status=TenantAuthorization.Status.VERIFIED).count() == ACCEPTED
    per_row = AuthorizationTransition.objects.values_list("authorization_id", flat=True)
    assert len(per_row) == ACCEPTED and len(set(per_row)) == ACCEPTED  # one transition row each
