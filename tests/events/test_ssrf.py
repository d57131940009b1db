"""Deliveries never reach this server or a private network in production: checked on registration and per send."""

import ipaddress
import socket

import pytest
import urllib3

from common.errors import InvalidInput
from storefront.events import network, services
from storefront.events.models import EventDelivery, EventEndpoint
from storefront.events.services import event_endpoint_create

pytestmark = pytest.mark.django_db

PRIVATE_URLS = [
    "https://127.0.0.1/hook",
    "http://127.0.0.1:8000/hook",
    "https://127.1.2.3/",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://10.0.0.5/hook",
    "https://172.16.0.1/",
    "https://192.168.1.10/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/",
    "https://[fd00::1]/",
    "https://[fe80::1]/",
    "https://0.0.0.0/",
    "https://100.64.0.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
]


def register(owner, url: str) -> EventEndpoint:
    return event_endpoint_create(
        organization_id=owner.organization_id, user_id=owner.pk, url=url, event_types=["order.completed"]
    )[0]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_loopback_link_local_and_reserved_addresses_are_refused_on_registration(
    owner, loopback_refused, url
):
    with pytest.raises(InvalidInput) as refused:
        register(owner, url)
    assert refused.value.field == "url"
    assert "public addresses only" in refused.value.message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://psa.example.com/hook", "Use an https:// URL"),
        ("ftp://psa.example.com/", "Enter a valid URL"),
        ("https://user:pass@psa.example.com/", "Leave user names and passwords out"),
        ("psa.example.com/hook", "Enter a valid URL"),
        ("https://psa.example.com:99999/", "Enter a valid URL"),
        ("", "Enter a valid URL"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(owner, loopback_refused, url, message):
    with pytest.raises(InvalidInput) as refused:
        register(owner, url)
    assert refused.value.message.startswith(message)


def test_loopback_is_allowed_only_with_the_sandbox_setting(owner, loopback_allowed):
    assert register(owner, "http://127.0.0.1:8766/fabrikam").url == "http://127.0.0.1:8766/fabrikam"
    with pytest.raises(InvalidInput):  # private networks stay refused even then
        register(owner, "https://10.0.0.5/hook")
    with pytest.raises(InvalidInput):
        register(owner, "https://169.254.169.254/")


def resolving(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Fakes DNS for the sender; answers the hosts it was asked for."""
    asked = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:  # an address (the connection to the checked one) needs no DNS
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)
        except ValueError:
            pass
        asked.append(host)
        if host not in answers:
            raise socket.gaierror("not found")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(network.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def no_connection(monkeypatch):
    """Fails the test if the sender opens any connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was opened")

    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", refuse)


def deliver_once(owner, url: str) -> EventDelivery:
    endpoint = register(owner, url)
    services.event_record(
        organization_id=owner.organization_id, event_type="order.completed", key=f"k:{url}", data={}
    )
    delivery = EventDelivery.objects.get(endpoint=endpoint)
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


@pytest.mark.parametrize(
    "addresses",
    [["10.1.2.3"], ["127.0.0.1"], ["169.254.169.254"], ["::1"], ["93.184.216.34", "192.168.0.7"]],
    ids=["private", "loopback", "metadata", "ipv6-loopback", "one-of-several-private"],
)
def test_a_host_name_resolving_to_a_private_address_is_never_contacted(
    owner, loopback_refused, monkeypatch, no_connection, addresses
):
    resolving(monkeypatch, {"psa.fabrikam.example": addresses})
    delivery = deliver_once(owner, "https://psa.fabrikam.example/hook")
    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    assert "not a public address: not delivered" in attempt.error
    assert delivery.status == "pending"  # DNS may be fixed by the next attempt


def test_an_endpoint_registered_in_the_sandbox_is_refused_once_loopback_is_off(
    owner, loopback_allowed, settings, no_connection
):
    endpoint = register(owner, "http://127.0.0.1:8766/fabrikam")
    settings.EVENT_ENDPOINTS_ALLOW_LOOPBACK = False
    services.event_record(
        organization_id=owner.organization_id, event_type="order.completed", key="k", data={}
    )
    services.delivery_attempt(delivery_id=EventDelivery.objects.get(endpoint=endpoint).pk)
    assert "public addresses only" in EventDelivery.objects.get().attempts.get().error


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(
    owner, loopback_allowed, monkeypatch, receiver
):
    """One lookup, then a connection to that very address (no second lookup a rebinding DNS could answer)."""
    asked = resolving(monkeypatch, {"psa.fabrikam.localhost": ["127.0.0.1"]})
    delivery = deliver_once(owner, f"http://psa.fabrikam.localhost:{receiver.port}/hook")
    assert delivery.status == "succeeded"
    assert asked == ["psa.fabrikam.localhost"]
    assert receiver.requests[0].headers["host"] == f"psa.fabrikam.localhost:{receiver.port}"


def test_unresolvable_host_is_a_failed_attempt_not_an_error(owner, loopback_refused, monkeypatch):
    resolving(monkeypatch, {})
    delivery = deliver_once(owner, "https://nowhere.fabrikam.example/hook")
    assert delivery.attempts.get().error == "The host name nowhere.fabrikam.example could not be resolved."


def test_https_pins_the_address_and_checks_the_certificate_for_the_host_name():
    target = network.target_parse("https://psa.fabrikam.example:8443/hooks?x=1")
    assert target == network.Target("https", "psa.fabrikam.example", 8443, "/hooks?x=1")
    pool = network._pool(target, "93.184.216.34", 5.0)
    assert pool.host == "93.184.216.34" and pool.port == 8443
    assert pool.conn_kw["server_hostname"] == "psa.fabrikam.example"
    assert pool.assert_hostname == "psa.fabrikam.example"
    assert pool.cert_reqs == "CERT_REQUIRED"
