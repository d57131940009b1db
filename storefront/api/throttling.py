"""Per-user throttles: the lookups enumerate Microsoft tenants and partners, the token endpoint guesses passwords."""

import hashlib
import math
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _LiveRates:
    def get_rate(self):
        # Read the rates on each request (not at import), so settings overrides apply at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


def _window_spend(key: str, limit: int, duration: int) -> int | None:
    """Counts one use in a window that opens with the first use: None within `limit`, else the seconds it has left.

    Redis answers in one round trip (INCR, EXPIRE NX and TTL pipelined), the lookups' only cache cost; other caches
    (tests, a machine without Redis) take a read and a write.
    """
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        # Django's cache API has no atomic "increment or create with a timeout": its Redis client does.
        pipe = cache._cache.get_client(full_key, write=True).pipeline()
        count, _, ttl = pipe.incr(full_key).expire(full_key, duration, nx=True).ttl(full_key).execute()
        return None if count <= limit else max(1, ttl)
    now = time.time()
    started, count = cache.get(key) or (now, 0)
    left = max(1, math.ceil(started + duration - now))
    if count >= limit:
        return left
    cache.set(key, (started, count + 1), timeout=left)
    return None


class LookupRateThrottle(_LiveRates, SimpleRateThrottle):
    """Domain availability and MPN validation, in the API and in the checkout's htmx checks alike: one budget of
    `LOOKUP_THROTTLE_RATE` per user (default 60/min), so alternating between them does not double it."""

    scope = "lookup"
    retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        self.retry_after = self.spend(ident=request.user.pk or self.get_ident(request))
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after

    def spend(self, *, ident) -> int | None:
        """Takes one lookup from the budget: None when allowed, else the seconds until the next one is."""
        if self.rate is None:
            return None
        # Not DRF's key: its history lists, left by the version before, are no counter to increment.
        return _window_spend(f"lookup-budget:{ident}", self.num_requests, self.duration)


def lookup_budget_spend(*, user_id: int) -> int | None:
    """The checkout's htmx checks spend the API's lookup budget: None when allowed, else the seconds to wait."""
    return LookupRateThrottle().spend(ident=user_id)


class TokenRateThrottle(_LiveRates, SimpleRateThrottle):
    """Sign-in attempts for a token, per client address and email."""

    scope = "token"

    def get_cache_key(self, request, view):
        if self.get_rate() is None:
            return None
        email = request.data.get("username", "") if hasattr(request.data, "get") else ""
        digest = hashlib.sha256(str(email).strip().lower().encode()).hexdigest()[:32]
        ident = f"{self.get_ident(request)}:{digest}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
