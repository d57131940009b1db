"""The polling pass: verifies accepted authorizations, backs off the rest, expires old ones, never double-claims."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from csp import mpn_ids, polling
from csp.connection import partner_center
from csp.models import AuthorizationTransition, TenantAuthorization
from tests.factories import IndirectResellerFactory
from tests.sandbox_ids import FABRIKAM_MPN, FABRIKAM_TENANT

from .conftest import pending

pytestmark = pytest.mark.django_db
Status = TenantAuthorization.Status


def test_backoff_doubles_from_the_polling_interval_and_stops_at_six_hours():
    delays = [polling.backoff_delay(attempts=n, interval_minutes=5) for n in range(8)]
    assert delays[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert delays[-1] == timedelta(hours=6)
    assert polling.backoff_delay(attempts=500, interval_minutes=5) == timedelta(hours=6)


def test_pass_verifies_an_indirect_authorization_once_customer_and_reseller_accepted(
    sandbox, control, reseller, owner, contoso, django_capture_on_commit_callbacks
):
    tenant = control("tenants", {"domain_prefix": "bgcontoso"})
    authorization = pending(
        reseller,
        prefix="bgcontoso",
        end_customer=contoso,
        requested_by=owner,
        reseller_tenant_id=FABRIKAM_TENANT,
        reseller_mpn_id=FABRIKAM_MPN,
    )
    assert polling.authorizations_poll_pass().verified == 0
    control("accept", {"domain": "bgcontoso.onmicrosoft.com", "reseller_tenant_id": FABRIKAM_TENANT})
    TenantAuthorization.objects.filter(pk=authorization.pk).update(next_check_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        report = polling.authorizations_poll_pass()

    authorization.refresh_from_db()
    assert (report.matched, report.verified) == (1, 1)
    # one customer page (the customer is in it), then its reseller relationships for the one match
    assert report.partner_center_calls == report.customer_pages + 1
    assert authorization.status == Status.VERIFIED
    assert authorization.customer_tenant_id == tenant["tenant_id"]
    assert authorization.claimed_until is None
    assert authorization.transitions.last().actor == AuthorizationTransition.Actor.WORKER
    contoso.refresh_from_db()
    assert contoso.tenant_id == tenant["tenant_id"]
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_customer_without_the_reseller_stays_pending_and_backs_off(sandbox, control, reseller):
    tenant = control("tenants", {"domain_prefix": "bgnoreseller"})
    authorization = pending(
        reseller,
        prefix="bgnoreseller",
        tenant_id=tenant["tenant_id"],
        reseller_tenant_id=FABRIKAM_TENANT,
        reseller_mpn_id=FABRIKAM_MPN,
    )
    control("accept", {"domain": "bgnoreseller.onmicrosoft.com"})

    report = polling.authorizations_poll_pass()

    authorization.refresh_from_db()
    assert (report.matched, report.verified, report.backed_off) == (1, 0, 1)
    assert authorization.status == Status.PENDING
    assert authorization.check_attempts == 1
    assert "has not yet accepted you as its reseller" in authorization.last_message


def test_direct_authorization_is_verified_from_the_customer_list_and_no_reseller_holding_it(sandbox, control):
    tenant = control("tenants", {"domain_prefix": "bgdirect"})
    control("accept", {"domain": "bgdirect.onmicrosoft.com"})
    authorization = pending(None, prefix="bgdirect", tenant_id=tenant["tenant_id"], direct=True)

    report = polling.authorizations_poll_pass()

    authorization.refresh_from_db()
    assert authorization.status == Status.VERIFIED
    # the customer list, then the customer's reseller relationships: a reseller's customer proves no direct link
    assert (report.customer_pages, report.partner_center_calls) == (1, 2)


def test_domain_is_resolved_to_its_tenant_once(sandbox, control, reseller):
    tenant = control("tenants", {"domain_prefix": "bgresolve"})
    authorization = pending(reseller, prefix="bgresolve")

    first = polling.authorizations_poll_pass()
    authorization.refresh_from_db()
    assert first.resolved == 1
    assert authorization.expected_tenant_id == tenant["tenant_id"]

    TenantAuthorization.objects.filter(pk=authorization.pk).update(next_check_at=timezone.now())
    second = polling.authorizations_poll_pass()
    assert second.resolved == 0
    assert second.partner_center_calls == second.customer_pages == 1


def test_unknown_domain_backs_off_exponentially_with_a_frozen_clock(sandbox, reseller, cloud_settings):
    with freeze_time("2025-03-01 09:00:00") as clock:
        authorization = pending(reseller, prefix="bgnobodyhasthis")
        expected_waits = [5, 10, 20, 40]
        for attempt, minutes in enumerate(expected_waits, start=1):
            report = polling.authorizations_poll_pass()
            authorization.refresh_from_db()
            assert report.claimed == 1
            assert report.customer_pages == 0  # nothing to match: the customer list is not read
            assert authorization.check_attempts == attempt
            assert authorization.next_check_at == timezone.now() + timedelta(minutes=minutes)
            clock.tick(timedelta(minutes=minutes - 1))
            assert polling.authorizations_poll_pass().claimed == 0  # not due yet
            clock.tick(timedelta(minutes=1))


def test_configured_polling_interval_sets_the_first_wait(sandbox, reseller, cloud_settings):
    cloud_settings.polling_interval_minutes = 15
    cloud_settings.save()
    with freeze_time("2025-03-01 09:00:00"):
        authorization = pending(
            reseller, prefix="bgslowpoll", tenant_id="33333333-3333-4333-8333-999999999999"
        )
        polling.authorizations_poll_pass()
        authorization.refresh_from_db()
        assert authorization.next_check_at == timezone.now() + timedelta(minutes=15)


def test_expired_authorizations_expire_in_the_pass_without_calling_microsoft(sandbox, reseller):
    with freeze_time("2025-03-01 09:00:00") as clock:
        authorization = pending(reseller, prefix="bgexpiring", expires_at=timezone.now() + timedelta(days=30))
        clock.tick(timedelta(days=30))
        report = polling.authorizations_poll_pass()
    authorization.refresh_from_db()
    assert authorization.status == Status.EXPIRED
    assert (report.expired, report.claimed, report.partner_center_calls) == (1, 0, 0)
    assert authorization.transitions.last().actor == AuthorizationTransition.Actor.WORKER


def test_nothing_due_costs_no_call(sandbox, reseller):
    pending(reseller, prefix="bglater", next_check_at=timezone.now() + timedelta(minutes=3))
    report = polling.authorizations_poll_pass()
    assert (report.claimed, report.partner_center_calls) == (0, 0)


def test_a_second_pass_skips_rows_the_first_has_claimed(sandbox, reseller, monkeypatch):
    ids = [
        pending(reseller, prefix=f"bgclaim{n}", tenant_id=f"33333333-3333-4333-8333-00000000010{n}").pk
        for n in range(3)
    ]
    read_customers = polling._customer_tenant_ids
    inner_reports = []

    def concurrent_pass_during_the_customer_read(report):
        inner_reports.append(polling.authorizations_poll_pass())
        return read_customers(report)

    monkeypatch.setattr(polling, "_customer_tenant_ids", concurrent_pass_during_the_customer_read)
    outer = polling.authorizations_poll_pass()

    assert outer.claimed == 3
    assert (inner_reports[0].claimed, inner_reports[0].partner_center_calls) == (0, 0)
    rows = TenantAuthorization.objects.filter(pk__in=ids)
    assert {a.check_attempts for a in rows} == {1}
    assert all(a.claimed_until is None for a in rows)


def test_claim_is_exclusive_and_a_lapsed_claim_can_be_taken_again(reseller):
    now = timezone.now()
    authorization = pending(reseller, prefix="bglease", tenant_id="33333333-3333-4333-8333-000000000200")
    assert polling.authorizations_claim(now=now, batch_size=10) == [authorization.pk]
    assert polling.authorizations_claim(now=now, batch_size=10) == []
    later = now + polling.CLAIM_LEASE + timedelta(seconds=2)
    assert polling.authorizations_claim(now=later, batch_size=10) == [authorization.pk]


def test_customer_list_outage_releases_the_claims_and_changes_nothing(
    sandbox, control, reseller, no_retry_sleep
):
    authorization = pending(reseller, prefix="bgoutage", tenant_id="33333333-3333-4333-8333-000000000300")
    control("faults", {"fail": {"count": 20, "status": 503}, "path_contains": "/v1/customers"})

    report = polling.authorizations_poll_pass()

    authorization.refresh_from_db()
    assert report.errors == 1
    assert (authorization.status, authorization.check_attempts, authorization.claimed_until) == (
        Status.PENDING,
        0,
        None,
    )


def test_poll_authorizations_command_prints_the_report(sandbox, reseller):
    from io import StringIO

    from django.core.management import call_command

    pending(reseller, prefix="bgcommand", tenant_id="33333333-3333-4333-8333-000000000400")
    out = StringIO()
    call_command("poll_authorizations", stdout=out)
    assert "checked 1" in out.getvalue()
    assert "verified 0" in out.getvalue()
    assert "partner center calls 1" in out.getvalue()


# Network cache ----------------------------------------------------------------------------------------------------


def test_mpn_check_on_a_fresh_cache_makes_no_call(sandbox):
    IndirectResellerFactory(mpn_id="7777777")
    client = partner_center()
    before = client.call_count
    assert mpn_ids.mpn_id_check(mpn_id="7777777").valid
    assert client.call_count == before


def test_stale_cache_is_used_with_a_warning_when_microsoft_is_down(sandbox, control, caplog, no_retry_sleep):
    IndirectResellerFactory(
        mpn_id="7777778", agreement_signed=None, refreshed_at=timezone.now() - timedelta(days=3)
    )
    control("faults", {"fail": {"count": 50, "status": 503}})

    with caplog.at_level("WARNING", logger="csp.calls"):
        check = mpn_ids.mpn_id_check(mpn_id="7777778")

    assert check.mpn_id == "7777778"
    assert any(
        r.levelname == "WARNING" and "Using the cached network entry" in r.getMessage()
        for r in caplog.records
    )


def test_network_refresh_task_keeps_the_cache_when_microsoft_is_down(sandbox, control, no_retry_sleep):
    from csp import tasks
    from csp.errors import PartnerCenterUnavailable

    entry = IndirectResellerFactory(mpn_id="7777779")
    control("faults", {"fail": {"count": 50, "status": 503}})
    with pytest.raises(PartnerCenterUnavailable):
        tasks.network_refresh()
    entry.refresh_from_db()
    assert entry.in_network


def test_an_open_page_brings_a_backed_off_authorization_back_to_the_polling_interval(client, owner):
    """A reseller watching the page while the customer accepts sees it within minutes, not after hours of back-off."""
    authorization = pending(
        owner.organization,
        prefix="watched",
        next_check_at=timezone.now() + timedelta(hours=5),
        check_attempts=8,
    )
    client.force_login(owner)
    status_url = reverse("checkout:authorization_status", args=[authorization.pk])
    assert client.get(status_url, {"status": "pending"}).status_code == 204
    authorization.refresh_from_db()
    assert authorization.next_check_at <= timezone.now() and authorization.check_attempts == 0
    assert polling.authorizations_claim(now=timezone.now(), batch_size=10) == [authorization.pk]


def test_a_watched_authorization_already_due_soon_costs_no_write(owner, django_assert_num_queries):
    soon = pending(owner.organization, prefix="soon", next_check_at=timezone.now() + timedelta(minutes=2))
    verified = pending(owner.organization, prefix="done", status=TenantAuthorization.Status.VERIFIED)
    assert polling.authorization_watched(soon) is False  # reads the polling interval once (kept in process)
    with django_assert_num_queries(0):
        assert polling.authorization_watched(soon) is False
        assert polling.authorization_watched(verified) is False
    soon.refresh_from_db()
    assert soon.next_check_at > timezone.now() + timedelta(minutes=1)
