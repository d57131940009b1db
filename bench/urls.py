"""The storefront's routes plus the bench's peers: the floor each measured row is compared with.

- `/bench/bare/`: the same middleware, signed-in session and user, and no work of our own (peer of the pages);
- `/bench/bare-lookups/` (POST `domain_prefix`, like the htmx check): the bare view plus the two lookups a new domain prefix cannot do without
  (Partner Center's `HEAD /v1/domains/{domain}` with a bearer token, and sign-in discovery), made concurrently
  with plain `requests` and nothing else: no retries, no parsing into types, no cache, no draft (peer of the
  domain checks).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from csp.connection import partner_center_config
from csp.partner_center.auth import token_provider_for

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_tokens = None


def _session() -> requests.Session:
    """One keep-alive session per thread, as a client would keep."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False
    return session


def _side_pool() -> ThreadPoolExecutor:
    global _pool, _tokens
    with _pool_lock:
        if _pool is None:  # created on first use, after gunicorn forked the worker
            _pool = ThreadPoolExecutor(max_workers=4)
            _tokens = token_provider_for(partner_center_config())
        return _pool


def bare(request: HttpRequest) -> HttpResponse:
    """The floor: the same middleware and the same signed-in session and user, and no work of our own."""
    return HttpResponse(f"ok {request.user.is_authenticated}", content_type="text/plain")


def bare_lookups(request: HttpRequest) -> HttpResponse:
    """The floor of a domain check: the bare view (a POST, so with the CSRF check) plus the two lookups."""
    prefix = request.POST.get("domain_prefix", "")
    pool = _side_pool()
    config = partner_center_config()
    domain = f"{prefix}.onmicrosoft.com"
    discovery = pool.submit(
        lambda: _session().get(f"{config.login_url}/{domain}/.well-known/openid-configuration", timeout=30)
    )
    headers = {"Authorization": f"Bearer {_tokens.token('partner_center')}", "Accept": "application/json"}
    exists = _session().head(f"{config.api_url}/v1/domains/{domain}", headers=headers, timeout=30)
    taken = exists.status_code == 200 or discovery.result().status_code == 200
    return HttpResponse(f"{domain} {'taken' if taken else 'free'} {request.user.is_authenticated}")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/bare-lookups/", bare_lookups, name="bench-bare-lookups"),
    path("", include("storefront.urls")),
]
