"""The one way out to a reseller's endpoint: public addresses only, the checked address is the one connected to.

An endpoint's URL is chosen by a customer, so a delivery must never reach the storefront's own network (the cloud
metadata service at 169.254.169.254, a database on 10.x, the host itself). Every address a host name resolves to is
checked and the connection goes to that checked address (no second lookup an attacker's DNS could answer
differently), redirects are not followed, and the whole exchange is bounded by a few seconds.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
RESPONSE_EXCERPT_BYTES = 500


class DestinationRefused(Exception):
    """The URL or an address it resolves to is not a public one (or not HTTPS)."""


class DeliveryFailed(Exception):
    """The endpoint could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    excerpt: str


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def _loopback_allowed() -> bool:
    return bool(getattr(settings, "EVENT_ENDPOINTS_ALLOW_LOOPBACK", False))


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return _loopback_allowed()
    # is_global is false for private, link-local, shared (100.64/10), reserved, unspecified and documentation ranges.
    return address.is_global and not address.is_multicast


def _is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_parse(url: str) -> Target:
    """Checks what can be checked without the network; raises DestinationRefused with a message for the user."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise DestinationRefused(
            "Enter a valid URL, such as https://psa.example.com/hooks/storefront."
        ) from error
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in {"https", "http"} or not host:
        raise DestinationRefused("Enter a valid URL, such as https://psa.example.com/hooks/storefront.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused(
            "Leave user names and passwords out of the URL: deliveries are signed instead."
        )
    loopback = _is_loopback_host(host)
    if loopback and not _loopback_allowed():
        raise DestinationRefused(
            "Deliveries go to public addresses only, not to this server or a private network."
        )
    if parts.scheme == "http" and not loopback:
        raise DestinationRefused("Use an https:// URL: deliveries are sent over HTTPS only.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _address_allowed(literal):
        raise DestinationRefused(
            "Deliveries go to public addresses only, not to this server or a private network."
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _resolve(target: Target) -> str:
    """Every address the host resolves to must be allowed; answers the first, which is the one connected to."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise DeliveryFailed(f"The host name {target.host} could not be resolved.") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise DeliveryFailed(f"The host name {target.host} could not be resolved.")
    for address in addresses:
        if not _address_allowed(address):
            raise DestinationRefused(
                f"{target.host} resolves to {address}, which is not a public address: not delivered."
            )
    return str(addresses[0])


def _pool(target: Target, address: str, timeout: float) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(total=timeout, connect=min(timeout, 3.0))
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=limits,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(address, target.port, timeout=limits, retries=False, maxsize=1)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs once to a checked address; a redirect is an answer like any other (not followed)."""
    target = target_parse(url)
    address = _resolve(target)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal
        host_header = f"[{target.host}]" + ("" if target.port == default_port else f":{target.port}")
    pool = _pool(target, address, float(settings.EVENT_DELIVERY_TIMEOUT))
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as error:  # before TimeoutError, its base class
        raise DeliveryFailed(f"Could not connect to {target.host}: the connection was refused.") from error
    except urllib3.exceptions.TimeoutError as error:
        raise DeliveryFailed(f"No answer within {settings.EVENT_DELIVERY_TIMEOUT:g} seconds.") from error
    except urllib3.exceptions.SSLError as error:
        raise DeliveryFailed(f"The TLS certificate of {target.host} was not accepted.") from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise DeliveryFailed(f"Could not connect to {target.host}: {error.__class__.__name__}.") from error
    finally:
        pool.close()
    return Answer(response.status, excerpt.decode("utf-8", "replace"))
