"""Per-user throttles: the lookups enumerate Microsoft tenants and partners, the token endpoint guesses passwords."""

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class _LiveRates:
    def get_rate(self):
        # Read the rates on each request (not at import), so settings overrides apply at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class LookupRateThrottle(_LiveRates, UserRateThrottle):
    """Domain availability and MPN validation: `LOOKUP_THROTTLE_RATE` per user (default 60/min)."""

    scope = "lookup"


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
