"""Sign-in lockout for every door (the storefront's form, the API's token endpoint, admin), through django-axes.

1. A failed sign-in is counted for the pair (email, client address) and for the address alone.
2. The pair is locked after `AXES_FAILURE_LIMIT` failures (default 5): a guesser locks only itself, never the
   same user signing in from elsewhere, nor a colleague behind the same proxy.
3. The address alone is locked after `SIGN_IN_ADDRESS_FAILURE_LIMIT` failures (default 50), whatever the emails,
   so one address cannot try many accounts.
4. A lock lasts `AXES_COOLOFF_TIME` after the failure that caused it; trying again meanwhile does not extend it.
   The answer says when to try again (a page, or the API's 429 with `Retry-After`). Staff unlock in admin
   (Axes → Access attempts: delete the rows).
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme


def username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email as typed, trimmed and lower-cased, so `Owner@X` and `owner@x` count as one."""
    value = (credentials or {}).get("username")
    if value is None:
        value = getattr(request, "POST", {}).get("username")
    value = str(value or "").strip().lower()[:254]
    return value or None


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the header a trusted proxy sets (`DJANGO_CLIENT_IP_HEADER`)."""
    header = settings.SIGN_IN_CLIENT_IP_HEADER
    candidates = []
    if header and request.META.get(header):
        # A proxy appends the address it saw last; anything before it was written by the client.
        candidates.append(str(request.META[header]).split(",")[-1].strip())
    candidates.append(str(request.META.get("REMOTE_ADDR") or ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate[:64]))
        except ValueError:
            continue
    return None  # a request built in code (a test's force_login) has no address


def _release_at(attempts: QuerySet, limit: int) -> datetime | None:
    """When the rows that hold `limit` failures or more have aged out enough to fall below it (None: not locked)."""
    rows = attempts.order_by("attempt_time").values_list("attempt_time", "failures_since_start")
    total = sum(failures for _, failures in rows)
    if total < limit:
        return None
    for attempt_time, failures in rows:
        total -= failures
        if total < limit:
            return attempt_time + get_cool_off()
    return None


class SignInLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with two ceilings: a low one per (email, address), a high one per address."""

    def _pair_and_address(self, request, credentials) -> tuple[QuerySet, QuerySet]:
        pair, address = self.get_user_attempts(request, credentials)  # AXES_LOCKOUT_PARAMETERS, in order
        return pair, address

    def get_failures(self, request, credentials: dict | None = None) -> int:
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self._pair_and_address(request, credentials)
        )
        if address >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A correct password clears its own pair only: signing in to one's own account from an address must not
        wipe the failures others caused there."""
        pair, _ = self._pair_and_address(request, credentials)
        count, _ = pair.delete()
        return count

    def seconds_locked(self, request, credentials: dict | None = None) -> int:
        """How long until this email may try again from this address (0: it may now)."""
        pair, address = self._pair_and_address(request, credentials)
        releases = [
            _release_at(pair, settings.AXES_FAILURE_LIMIT),
            _release_at(address, settings.SIGN_IN_ADDRESS_FAILURE_LIMIT),
        ]
        until = max((r for r in releases if r is not None), default=None)
        if until is None:
            return 0
        return max(math.ceil((until - timezone.now()).total_seconds()), 1)


def locked_message(seconds: int) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many failed sign-in attempts. For your security, sign-in is paused: "
        f"try again in {wait}, or reset your password."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the API's 429 error body, or the sign-in page again with what was typed; both say
    when to try again."""
    from storefront.accounts.forms import EmailAuthenticationForm
    from storefront.api.errors import error_body

    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    seconds = handler.seconds_locked(request, credentials) if isinstance(handler, SignInLockoutHandler) else 0
    seconds = seconds or int(get_cool_off().total_seconds())
    message = locked_message(seconds)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body("throttled", message), status=429)
    else:
        typed = username(request, credentials) or ""
        form = EmailAuthenticationForm(request, initial={"username": typed})
        form.cleaned_data = {}
        form.add_error(None, message)
        next_url = str(request.POST.get("next", ""))
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = ""
        response = render(request, "accounts/login.html", {"form": form, "next": next_url}, status=429)
    response["Retry-After"] = str(seconds)
    return response
