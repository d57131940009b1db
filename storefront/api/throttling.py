"""Per-user throttles: the lookups enumerate Microsoft tenants and partners, the token endpoint guesses passwords."""

import hashlib
import math

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class _LiveRates:
    def get_rate(self):
        # Read the rates on each request (not at import), so settings overrides apply at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class LookupRateThrottle(_LiveRates, UserRateThrottle):
    """Domain availability and MPN validation, in the API and in the checkout's htmx checks alike: one budget of
    `LOOKUP_THROTTLE_RATE` per user (default 60/min), so alternating between them does not double it. DRF's own
    sliding window, two cache round trips (read the user's recent lookups, write them back)."""

    scope = "lookup"


def lookup_budget_spend(*, request: HttpRequest) -> int | None:
    """The checkout's checks spend the API's lookup budget through the same throttle: None when allowed, else the
    whole seconds to wait."""
    throttle = LookupRateThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


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
