"""The client's plumbing: Microsoft's headers and ids, the retry policy per caller (urllib3's bounded retries for
someone waiting, one attempt inside `one_attempt_per_call`), typed errors, the token refresh on 401, the audit
recorder and the session; against documented answers and, over real HTTP, the sandbox's faults."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import requests
from urllib3 import HTTPResponse
from urllib3.util.retry import RequestHistory

from csp.partner_center import PartnerCenterError
from csp.partner_center.auth import token_provider_for
from csp.partner_center.client import PartnerCenterClient, one_attempt_per_call, retry_policy
from csp.partner_center.deadline import answer_within
from csp.partner_center.exceptions import NotFound, PermanentPartnerCenterError, TransientPartnerCenterError
from csp.partner_center.schemas import PartnerCenterConfig
from csp.sandbox.server import SandboxServer

from .helpers import (
    API,
    CUSTOMER_URL,
    CUSTOMERS_URL,
    DOMAIN_URL,
    FABRIKAM_TENANT,
    GRAPH,
    LOGIN,
    correlation_ids,
    is_uuid,
    load,
    new_customer,
    request_ids,
    sent,
)
from .live import (
    Sleeps,
    faults,
    logged_requests,
    make_client,
    sandbox_new_customer,
    small_gdap,
)


def _throttled(retry_after: str | None) -> HTTPResponse:
    return HTTPResponse(status=429, headers={"Retry-After": retry_after} if retry_after else {})


def test_every_call_sends_microsoft_headers(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)

    client.domain_exists("contoso.onmicrosoft.com")

    headers = sent(mocked).headers
    assert headers["Authorization"] == "Bearer partner_center-token-1"
    assert headers["Accept"] == "application/json"
    assert is_uuid(headers["MS-RequestId"])
    assert is_uuid(headers["MS-CorrelationId"])
    assert headers["MS-RequestId"] != headers["MS-CorrelationId"]
    assert headers["X-Locale"] == "en-US"
    assert headers["MS-PartnerCenter-Application"] == "CSP Storefront tests"
    assert headers["MS-Contract-Version"] == "v1"
    assert "Content-Type" not in headers


def test_once_a_pages_time_is_spent_nothing_is_sent(client, mocked):
    with answer_within(0), pytest.raises(TransientPartnerCenterError, match="time a page waits"):
        client.domain_exists("contoso.onmicrosoft.com")

    assert len(mocked.calls) == 0


def test_inside_a_page_each_attempt_waits_only_what_is_left(client, mocked, monkeypatch):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    timeouts = []
    send = client._session.request

    def spy(*args, **kwargs):
        timeouts.append(kwargs["timeout"])
        return send(*args, **kwargs)

    monkeypatch.setattr(client._session, "request", spy)
    with answer_within(5):
        client.domain_exists("contoso.onmicrosoft.com")
    client.domain_exists("contoso.onmicrosoft.com")  # outside a page: the configured timeout

    assert 4 < timeouts[0].read_timeout <= 5
    assert timeouts[1] == client.config.timeout


def test_graph_and_sign_in_discovery_get_no_partner_center_contract_version(client, mocked):
    mocked.get(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/r1",
        json={"id": "r1", "status": "active"},
    )
    mocked.get(
        f"{LOGIN}/contoso.onmicrosoft.com/.well-known/openid-configuration",
        json={"issuer": f"https://sts.windows.net/{FABRIKAM_TENANT}/"},
    )

    client.get_gdap_relationship("r1")
    client.tenant_id_for_domain("contoso.onmicrosoft.com")

    assert ["MS-Contract-Version" in call.request.headers for call in mocked.calls] == [False, False]


def test_each_logical_call_gets_fresh_request_and_correlation_ids(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)

    client.domain_exists("contoso.onmicrosoft.com")
    client.domain_exists("contoso.onmicrosoft.com")

    first, second = sent(mocked, 0).headers, sent(mocked, 1).headers
    assert first["MS-RequestId"] != second["MS-RequestId"]
    assert first["MS-CorrelationId"] != second["MS-CorrelationId"]
    assert client.call_count == 2
    assert list(client.calls) == [("HEAD", "/v1/domains/contoso.onmicrosoft.com")] * 2


def test_next_link_to_a_foreign_host_is_refused(client, mocked):
    page = load("indirect_resellers_page1.json")
    page["links"]["next"]["uri"] = "https://evil.example/steal"
    mocked.get(f"{API}/v1/relationships", json=page)

    with pytest.raises(PermanentPartnerCenterError, match="another host"):
        client.indirect_resellers()
    assert client.call_count == 1


# For someone waiting, urllib3's Retry does the transient retries. `responses` replays its status retries (not its
# sleeps, and not network errors), so the tests with `client` assert what was sent; the waits and the network errors
# are proved over real HTTP by the tests with `live` (the sandbox) further down.


def test_429_is_retried_with_the_same_request_id(client, mocked):
    mocked.head(DOMAIN_URL, status=429, headers={"Retry-After": "7"})
    mocked.head(DOMAIN_URL, status=200)

    assert client.domain_exists("contoso.onmicrosoft.com") is True

    assert client.call_count == 2
    assert len(request_ids(mocked)) == 1
    assert len(correlation_ids(mocked)) == 1


def test_the_retry_policy_waits_retry_after_capped_and_the_sdk_backoff_otherwise(config):
    waits: list[float] = []
    policy = retry_policy(config, sleeper=waits.append)

    policy.sleep(_throttled("7"))
    policy.sleep(_throttled("3600"))
    policy.sleep(_throttled("not a number"))
    for attempt in range(1, 4):
        policy.new(history=(RequestHistory("GET", "/", None, 503, None),) * attempt).sleep(_throttled(None))

    assert waits == [7.0, 60.0, 0.0, 0.5, 1.5, 3.5]


def test_the_retry_policy_retries_every_method_on_429_and_5xx_but_never_on_4xx(config):
    policy = retry_policy(config)

    assert policy.total == config.max_retries == 3
    for status in (429, 500, 502, 503, 504):
        assert policy.is_retry("POST", status, has_retry_after=False)
    for status in (400, 401, 403, 404, 409, 501, 505):
        assert not policy.is_retry("POST", status, has_retry_after=True)


def test_throttling_beyond_the_bound_is_transient_with_microsofts_message(client, mocked):
    for _ in range(4):
        mocked.get(CUSTOMER_URL, status=429, headers={"Retry-After": "2"}, json=load("throttled_429.json"))

    with pytest.raises(TransientPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")

    assert client.call_count == 4
    assert info.value.status == 429
    assert info.value.code == 429
    assert info.value.description.startswith("Rate limit is exceeded")


def test_5xx_then_success_reuses_the_callers_request_id(client, mocked, records):
    mocked.post(CUSTOMERS_URL, status=503, json={"code": 0, "description": "unavailable"})
    mocked.post(CUSTOMERS_URL, status=201, json=load("create_customer_response.json"))
    request_id = str(uuid.uuid4())

    created = client.create_customer(new_customer(), request_id=request_id)

    assert created.tenant_id == "33333333-3333-4333-8333-000000000099"
    assert request_ids(mocked) == {request_id}
    assert len(correlation_ids(mocked)) == 1
    assert mocked.calls[0].request.body == mocked.calls[1].request.body
    assert [(r.status, r.request_id) for r in records] == [(201, request_id)]


def test_5xx_retries_are_bounded(client, mocked):
    for _ in range(4):
        mocked.get(CUSTOMER_URL, status=500, json={"code": 500, "description": "Internal error"})

    with pytest.raises(TransientPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")

    assert client.call_count == 4
    assert info.value.status == 500
    assert len(request_ids(mocked)) == 1
    assert info.value.request_id in request_ids(mocked)
    assert info.value.correlation_id in correlation_ids(mocked)


def test_max_retries_zero_means_one_attempt(config, tokens, mocked):
    from dataclasses import replace

    client = PartnerCenterClient(replace(config, max_retries=0), token_provider=tokens)
    mocked.get(CUSTOMER_URL, status=502)

    with pytest.raises(TransientPartnerCenterError):
        client.get_customer("33333333-3333-4333-8333-000000000005")
    assert client.call_count == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_work_on_its_own_schedule_sends_each_call_once_and_carries_retry_after(client, mocked, status):
    """Inside a task (`one_attempt_per_call`) the task's schedule is the retry: one attempt per call."""
    for retry_after in ("120", "2"):
        mocked.get(
            CUSTOMER_URL, status=status, headers={"Retry-After": retry_after}, json=load("throttled_429.json")
        )
    mocked.get(CUSTOMER_URL, status=200, json=load("customer.json"))

    with one_attempt_per_call(), pytest.raises(TransientPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")

    assert (client.call_count, len(mocked.calls)) == (1, 1)
    assert (info.value.status, info.value.retry_after) == (status, 120.0)  # not capped at the page's 60 s
    # outside it, someone is waiting: urllib3 retries within the call (a Retry-After that fits in the page's
    # `max_wait`), with the same request id
    assert client.get_customer("33333333-3333-4333-8333-000000000005") is not None
    assert (client.call_count, len(mocked.calls)) == (3, 3)
    assert len({call.request.headers["MS-RequestId"] for call in mocked.calls[1:]}) == 1


def test_a_retry_after_longer_than_a_page_waits_is_answered_at_once(client, mocked, sleeps):
    mocked.get(CUSTOMER_URL, status=429, headers={"Retry-After": "120"}, json=load("throttled_429.json"))

    with pytest.raises(TransientPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")

    assert (client.call_count, info.value.retry_after, sleeps) == (1, 120.0, [])


def test_retry_after_as_an_http_date_or_unreadable(client, mocked):
    mocked.get(CUSTOMER_URL, status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    mocked.get(CUSTOMER_URL, status=503, headers={"Retry-After": "soon"})
    seen = []
    for _ in range(2):
        with one_attempt_per_call(), pytest.raises(TransientPartnerCenterError) as info:
            client.get_customer("33333333-3333-4333-8333-000000000005")
        seen.append(info.value.retry_after)
    assert seen == [0.0, None]  # a date already past means now; an unreadable value leaves the task's backoff


def test_a_timeout_left_after_the_retries_is_transient(client, mocked):
    mocked.head(DOMAIN_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))

    with pytest.raises(TransientPartnerCenterError, match="timed out") as info:
        client.domain_exists("contoso.onmicrosoft.com")

    assert info.value.status is None
    assert info.value.request_id is not None


def test_a_connection_error_left_after_the_retries_is_transient(client, mocked):
    mocked.head(DOMAIN_URL, body=requests.exceptions.ConnectionError("connection refused"))

    with pytest.raises(TransientPartnerCenterError, match="could not connect"):
        client.domain_exists("contoso.onmicrosoft.com")


def test_failed_change_is_still_recorded_after_retries(client, mocked, records):
    mocked.post(CUSTOMERS_URL, body=requests.exceptions.ConnectionError("connection refused"))

    with pytest.raises(TransientPartnerCenterError):
        client.create_customer(new_customer(), request_id="66666666-aaaa-4aaa-8aaa-666666666666")

    [record] = records
    assert record.status is None
    assert record.request_id == "66666666-aaaa-4aaa-8aaa-666666666666"
    assert "could not connect" in record.error_description


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, PermanentPartnerCenterError), (403, PermanentPartnerCenterError), (404, NotFound), (409, None)],
)
def test_client_errors_are_never_retried(client, mocked, sleeps, status, error):
    mocked.get(f"{API}/v1/customers/x/orders/1", status=status, json={"code": 1, "description": "no"})

    with pytest.raises(error or PermanentPartnerCenterError) as info:
        client.get_order("x", "1")

    assert client.call_count == 1
    assert sleeps == []
    assert info.value.status == status
    assert not isinstance(info.value, TransientPartnerCenterError)


def test_401_refreshes_the_token_once_and_retries(client, mocked, tokens, sleeps):
    mocked.head(DOMAIN_URL, status=401)
    mocked.head(DOMAIN_URL, status=200)

    assert client.domain_exists("contoso.onmicrosoft.com") is True

    assert tokens.invalidated == ["partner_center"]
    assert [c.request.headers["Authorization"] for c in mocked.calls] == [
        "Bearer partner_center-token-1",
        "Bearer partner_center-token-2",
    ]
    assert len(request_ids(mocked)) == 1
    assert sleeps == []


def test_second_401_is_permanent(client, mocked, tokens):
    mocked.head(DOMAIN_URL, status=401)
    mocked.head(DOMAIN_URL, status=401)

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.domain_exists("contoso.onmicrosoft.com")

    assert info.value.status == 401
    assert client.call_count == 2
    assert tokens.invalidated == ["partner_center"]


def test_malformed_json_is_a_permanent_error(client, mocked):
    mocked.get(CUSTOMER_URL, body='{"id": "33333333-', content_type="application/json")

    with pytest.raises(PermanentPartnerCenterError, match="not JSON") as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")
    assert info.value.status == 200
    assert info.value.request_id is not None


def test_unexpected_json_shape_is_a_permanent_error(client, mocked):
    mocked.get(CUSTOMER_URL, json=["not", "an", "object"])

    with pytest.raises(PermanentPartnerCenterError):
        client.get_customer("33333333-3333-4333-8333-000000000005")


def test_missing_fields_are_a_permanent_error_not_a_key_error(client, mocked):
    payload = load("cart_created.json")
    del payload["id"]
    mocked.post(f"{API}/v1/customers/t/carts", status=201, json=payload)

    from csp.partner_center import CartLine

    with pytest.raises(PermanentPartnerCenterError, match="'id'"):
        client.create_cart("t", [CartLine("a:b:c", 1)], request_id="r")


def test_html_error_page_on_4xx_is_permanent_and_says_so(client, mocked):
    mocked.get(CUSTOMER_URL, status=400, body=load("error_page_502.html"), content_type="text/html")

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")
    assert info.value.description == "HTTP 400 with an HTML page"
    assert "<html" not in str(info.value)


def test_html_error_page_on_5xx_is_transient_after_retries(client, mocked, sleeps):
    for _ in range(4):
        mocked.get(CUSTOMER_URL, status=502, body=load("error_page_502.html"), content_type="text/html")

    with pytest.raises(TransientPartnerCenterError) as info:
        client.get_customer("33333333-3333-4333-8333-000000000005")
    assert info.value.description == "HTTP 502 with an HTML page"
    assert client.call_count == 4


def test_html_page_with_200_is_a_permanent_error(client, mocked):
    mocked.get(CUSTOMER_URL, status=200, body=load("error_page_502.html"), content_type="text/html")

    with pytest.raises(PermanentPartnerCenterError):
        client.get_customer("33333333-3333-4333-8333-000000000005")


def test_error_codes_are_parsed_as_int_or_string(client, mocked):
    mocked.get(CUSTOMER_URL, status=400, json={"code": "600002", "description": "x"})
    mocked.get(CUSTOMER_URL, status=400, json={"code": "SomethingWrong", "description": "y"})

    with pytest.raises(PartnerCenterError) as first:
        client.get_customer("33333333-3333-4333-8333-000000000005")
    with pytest.raises(PartnerCenterError) as second:
        client.get_customer("33333333-3333-4333-8333-000000000005")
    assert first.value.code == 600002
    assert second.value.code == "SomethingWrong"


def test_a_failing_recorder_does_not_fail_a_change_microsoft_made(config, tokens, mocked, caplog):
    def broken(record):
        raise RuntimeError("database down")

    client = PartnerCenterClient(config, token_provider=tokens, recorder=broken, sleep=lambda s: None)
    mocked.post(f"{API}/v1/customers/t/carts", status=201, json=load("cart_created.json"))
    from csp.partner_center import CartLine

    cart = client.create_cart("t", [CartLine("a:b:c", 1)], request_id="r")

    assert cart.status == "Active"
    assert "recorder failed" in caplog.text


def test_reads_are_not_recorded(client, mocked, records):
    mocked.head(DOMAIN_URL, status=404)

    client.domain_exists("contoso.onmicrosoft.com")

    assert records == []


def test_on_request_hook_sees_every_attempt(config, tokens, mocked):
    seen = []
    client = PartnerCenterClient(
        config,
        token_provider=tokens,
        sleep=lambda s: None,
        on_request=lambda method, path: seen.append((method, path)),
    )

    mocked.head(DOMAIN_URL, status=503)
    mocked.head(DOMAIN_URL, status=200)
    client.domain_exists("contoso.onmicrosoft.com")

    assert seen == [("HEAD", "/v1/domains/contoso.onmicrosoft.com")] * 2


def test_logs_never_contain_tokens_or_passwords(client, mocked, caplog):
    caplog.set_level(logging.DEBUG)
    mocked.post(CUSTOMERS_URL, status=503)
    mocked.post(CUSTOMERS_URL, status=201, json=load("create_customer_response.json"))

    client.create_customer(new_customer(), request_id=str(uuid.uuid4()))

    assert "partner_center-token" not in caplog.text
    assert "Gen3rated" not in caplog.text
    assert "app-secret" not in caplog.text


def test_session_without_a_proxy_keeps_the_ca_bundle_and_stops_rereading_the_environment(monkeypatch):
    from csp.partner_center.client import microsoft_session

    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/private-ca.pem")
    session = microsoft_session()
    assert session.trust_env is False
    assert session.verify == "/etc/ssl/private-ca.pem"


def test_session_behind_a_proxy_keeps_requests_own_environment_handling(monkeypatch):
    from csp.partner_center.client import microsoft_session

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    session = microsoft_session()
    assert session.trust_env is True
    assert session.verify is True


def test_client_sends_the_bearer_token_and_refreshes_it_once_when_the_sandbox_answers_401(
    url: str, sleeps: Sleeps
) -> None:
    config = PartnerCenterConfig.for_sandbox(url)
    real = token_provider_for(config)

    class StaleFirst:
        def __init__(self) -> None:
            self.invalidated: list[str | None] = []

        def token(self, resource: str) -> str:
            return "sandbox-expired-token" if not self.invalidated else real.token(resource)

        def invalidate(self, resource: str | None = None) -> None:
            self.invalidated.append(resource)
            real.invalidate(resource)

    tokens = StaleFirst()
    live = PartnerCenterClient(config, token_provider=tokens, sleep=sleeps)

    assert live.agreement_status(mpn_id="1234567").signed is True
    assert tokens.invalidated == ["partner_center"]
    assert len(logged_requests(url, "/v1/compliance/csp/agreementstatus")) == 2
    assert sleeps == []


def test_a_429_is_retried_after_the_retry_after_delay_and_then_succeeds(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    live.token_provider.token("partner_center")  # sign in first, so the fault hits the call itself
    faults(url, throttle={"count": 1, "retry_after": 0})

    assert live.agreement_status(mpn_id="1234567").signed is True

    assert sleeps == [0.0]
    attempts = logged_requests(url, "/v1/compliance/csp/agreementstatus")
    assert len(attempts) == 2
    assert attempts[0]["ms_request_id"] == attempts[1]["ms_request_id"]


def test_a_429_retry_after_header_sets_the_delay(url: str, live: PartnerCenterClient, sleeps: Sleeps) -> None:
    live.token_provider.token("partner_center")
    faults(url, throttle={"count": 1, "retry_after": 7})

    assert len(live.indirect_resellers()) == 3

    assert sleeps == [7.0]  # the no-op sleep was asked for Retry-After, not the backoff


def test_a_page_is_never_kept_waiting_longer_than_max_wait_for_microsoft(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    """A Retry-After that does not fit in what is left of `max_wait` (10 s in all) is answered at once, with
    Microsoft's Retry-After on the error, instead of blocking the buyer's page for minutes (3 x 60 s before)."""
    live.token_provider.token("partner_center")
    for retry_after in (45, 3600):
        faults(url, throttle={"count": 5, "retry_after": retry_after})
        with pytest.raises(TransientPartnerCenterError) as raised:
            live.indirect_resellers()
        assert raised.value.retry_after == retry_after and sleeps == []
    assert len(logged_requests(url, "/v1/relationships")) == 2  # one attempt each, no wait
    faults(url, throttle={"count": 5, "retry_after": 4})
    with pytest.raises(TransientPartnerCenterError):
        live.indirect_resellers()
    assert sleeps == [4.0, 4.0]  # the third wait of 4 s would pass the 10 s


def test_a_slow_microsoft_keeps_a_page_waiting_no_longer_than_max_wait(url: str, sleeps: Sleeps) -> None:
    """Timed-out attempts count towards `max_wait` like the waits between them: with a 30 s timeout and 3 retries a
    buyer's page waited two minutes and more (gunicorn's 30 s had long killed it); now one timeout past it ends."""
    live = make_client(url, sleeps, timeout=0.3, max_retries=3, backoff=0.01, max_wait=0.5)
    live.token_provider.token("partner_center")
    faults(url, timeout={"count": 10, "seconds": 1})

    with pytest.raises(TransientPartnerCenterError, match="timed out"):
        live.domain_exists("contoso.com")

    assert len(logged_requests(url, "/v1/domains/")) == 2  # 0.3 s + 0.01 s, then 0.6 s > 0.5 s: no third


def test_a_503_is_retried_with_the_same_ms_request_id_and_creates_exactly_one_customer(
    url: str, sandbox_server: SandboxServer, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    live.token_provider.token("partner_center")
    request_id = str(uuid.uuid4())
    faults(url, fail={"count": 1, "status": 503})

    created = live.create_customer(sandbox_new_customer("fourthcoffee"), request_id=request_id)

    attempts = [r for r in logged_requests(url, "/v1/customers") if r["method"] == "POST"]
    assert [r["ms_request_id"] for r in attempts] == [request_id, request_id]
    assert len(sleeps) == 1
    assert created.tenant_id in sandbox_server.state.customers
    domains = [t.initial_domain for t in sandbox_server.state.tenants.values()]
    assert domains.count("fourthcoffee.onmicrosoft.com") == 1


def test_a_503_on_graph_is_retried_and_then_succeeds(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    created = small_gdap(live, "Retried read")
    faults(url, fail={"count": 1, "status": 503})

    assert live.get_gdap_relationship(created.id).status == "created"
    assert len(sleeps) == 1


def test_5xx_beyond_the_retry_budget_is_a_transient_error_carrying_the_request_id(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    live.token_provider.token("partner_center")
    faults(url, fail={"count": 10, "status": 503})

    with pytest.raises(TransientPartnerCenterError) as raised:
        live.domain_exists("contoso.onmicrosoft.com")

    assert raised.value.status == 503
    attempts = logged_requests(url, "/v1/domains/")
    assert len(attempts) == 3  # one try + max_retries=2
    assert {r["ms_request_id"] for r in attempts} == {raised.value.request_id}
    assert len(sleeps) == 2


def test_a_malformed_json_answer_is_a_permanent_error_with_a_clear_message(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    live.token_provider.token("partner_center")
    faults(url, malformed={"count": 1})

    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.customers_page()

    assert not isinstance(raised.value, TransientPartnerCenterError)
    assert "unexpected answer from Microsoft to customers_page" in str(raised.value)
    assert "not JSON" in str(raised.value)
    assert raised.value.status == 200
    assert sleeps == []  # bad content is not retried
    assert len(live.customers_page().items) == 1  # the next answer is fine again


def test_a_reset_connection_is_retried_and_then_succeeds(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    live.token_provider.token("partner_center")
    faults(url, reset={"count": 1})

    assert live.domain_exists("contoso.com") is True

    attempts = logged_requests(url, "/v1/domains/")
    assert len(attempts) == 2
    assert attempts[0]["ms_request_id"] == attempts[1]["ms_request_id"]
    assert len(sleeps) == 1


def test_timeouts_beyond_the_retry_budget_are_a_transient_error_after_bounded_retries(
    url: str, sleeps: Sleeps
) -> None:
    live = make_client(url, sleeps, timeout=0.3, max_retries=2, backoff=0.01)
    live.token_provider.token("partner_center")
    faults(url, timeout={"count": 3, "seconds": 1})

    with pytest.raises(TransientPartnerCenterError) as raised:
        live.indirect_resellers()

    assert "timed out" in str(raised.value)
    attempts = logged_requests(url, "/v1/relationships")
    assert len(attempts) == 3
    assert {r["ms_request_id"] for r in attempts} == {raised.value.request_id}
    assert sleeps == [pytest.approx(0.01), pytest.approx(0.03)]  # exponential backoff


def test_a_create_that_timed_out_is_retried_with_the_same_request_id_and_not_duplicated(
    url: str, sandbox_server: SandboxServer, sleeps: Sleeps
) -> None:
    live = make_client(url, sleeps, timeout=0.3, max_retries=2, backoff=0.01)
    live.token_provider.token("partner_center")
    request_id = str(uuid.uuid4())
    faults(url, timeout={"count": 1, "seconds": 1})

    created = live.create_customer(sandbox_new_customer("fourthcoffee"), request_id=request_id)

    attempts = [r for r in logged_requests(url, "/v1/customers") if r["method"] == "POST"]
    assert [r["ms_request_id"] for r in attempts] == [request_id, request_id]
    domains = [t.initial_domain for t in sandbox_server.state.tenants.values()]
    assert domains.count("fourthcoffee.onmicrosoft.com") == 1
    assert created.tenant_id in sandbox_server.state.customers


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        ({"reset": {"count": 1}}, None),
        ({"timeout": {"count": 1, "seconds": 1}}, None),
        ({"fail": {"count": 1, "status": 503}}, None),
        ({"throttle": {"count": 1, "retry_after": 30}}, 30.0),
    ],
    ids=["reset", "timeout", "503", "429"],
)
def test_inside_one_attempt_per_call_a_fault_reaches_the_task_after_exactly_one_request(
    url: str, sleeps: Sleeps, fault: dict, retry_after: float | None
) -> None:
    """Over real sockets: no urllib3 retry under a task's own schedule; the same call outside it retries."""
    live = make_client(url, sleeps, timeout=0.3, max_retries=2, backoff=0.01)
    live.token_provider.token("partner_center")
    faults(url, **fault)

    with one_attempt_per_call(), pytest.raises(TransientPartnerCenterError) as raised:
        live.domain_exists("contoso.com")

    assert len(logged_requests(url, "/v1/domains/")) == 1
    assert (sleeps, raised.value.retry_after) == ([], retry_after)
    faults(url, **fault)
    if retry_after is not None and retry_after > live.config.max_wait:
        # Outside it, someone is waiting: a Retry-After longer than a page waits is answered at once.
        with pytest.raises(TransientPartnerCenterError):
            live.domain_exists("contoso.com")
        assert len(logged_requests(url, "/v1/domains/")) == 2
        return
    assert live.domain_exists("contoso.com") is True
    assert len(logged_requests(url, "/v1/domains/")) == 3  # outside it: the fault, then its retry


def test_inside_a_page_urllib3s_retries_also_get_only_what_is_left(
    url: str, live: PartnerCenterClient, sleeps: Sleeps
) -> None:
    """A slow 503 answered just inside the page's time used to be retried with the first attempt's whole timeout,
    twice more: a page held three times its limit. Each retry now waits only what is left, and none is sent once
    the time is spent."""
    live.token_provider.token("partner_center")
    faults(url, latency_ms=700, fail={"count": 5})

    started = time.monotonic()
    with answer_within(1.0), pytest.raises(TransientPartnerCenterError):
        live.indirect_resellers()

    assert time.monotonic() - started < 1.4
    assert len(logged_requests(url, "/v1/relationships")) <= 2


def test_inside_a_page_signing_in_gets_only_what_is_left(url: str, sleeps: Sleeps) -> None:
    """The token is fetched before the call's own time is counted: a slow sign-in held the page for the whole
    configured timeout."""
    slow = make_client(url, sleeps, timeout=5.0, max_retries=0, backoff=0.01)
    faults(url, latency_ms=3000, path_contains="/oauth2/")

    started = time.monotonic()
    with answer_within(1.0), pytest.raises(TransientPartnerCenterError):
        slow.indirect_resellers()

    assert time.monotonic() - started < 1.6


def test_msal_s_own_calls_get_only_what_is_left_of_a_page(monkeypatch) -> None:
    """Live sign-in (msal: token refresh, authority discovery, the tenant administrator's sign-in) used msal's
    own session with the whole configured timeout, outside the page's time."""
    from csp.partner_center.auth import PageBoundHttpClient

    http = PageBoundHttpClient(30.0)
    seen = []
    monkeypatch.setattr(http._session, "post", lambda url, **kwargs: seen.append(kwargs["timeout"]))
    monkeypatch.setattr(http._session, "get", lambda url, **kwargs: seen.append(kwargs["timeout"]))

    http.post("https://login.example/token", timeout=30)
    with answer_within(2):
        http.get("https://login.example/.well-known/openid-configuration", timeout=30)
    with answer_within(0), pytest.raises(requests.Timeout):
        http.post("https://login.example/token")

    assert seen[0] == 30.0 and seen[1].read_timeout <= 2
