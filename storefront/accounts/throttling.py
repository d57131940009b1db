"""Sign-in throttling: after 5 failed sign-ins for an email or from an address within 15 minutes, refuse
further attempts for 15 minutes. Counters live in the cache (Redis in production), shared by every web worker."""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCKOUT_SECONDS = 15 * 60
logger = logging.getLogger(__name__)
LOCKED_MESSAGE = (
    "Too many failed sign-in attempts. For your security, sign-in is paused for 15 minutes: "
    "please wait and try again, or ask your administrator to reset your password."
)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the header a trusted proxy sets (LOGIN_THROTTLE_CLIENT_IP_HEADER)."""
    header = getattr(settings, "LOGIN_THROTTLE_CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        # A proxy appends the address it saw last; anything before it was written by the client.
        return request.META[header].split(",")[-1].strip()[:64]
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]


def _subjects(*, email: str, ip: str) -> list[str]:
    subjects = [f"ip:{ip}"]
    email = (email or "").strip().lower()
    if email:
        subjects.append("email:" + hashlib.sha256(email.encode()).hexdigest())
    return subjects


def _failures_key(subject: str) -> str:
    return f"login-throttle:failures:{subject}"


def _lock_key(subject: str) -> str:
    return f"login-throttle:locked:{subject}"


def login_locked(*, email: str, ip: str) -> bool:
    """Whether sign-in is paused for this email or this address."""
    return login_locked_seconds(email=email, ip=ip) > 0


def login_locked_seconds(*, email: str, ip: str) -> int:
    """How many seconds sign-in stays paused for this email or this address (0: not paused).

    The web form and the API's token endpoint share these counters, so neither is a way around the other.
    """
    keys = [_lock_key(s) for s in _subjects(email=email, ip=ip)]
    now = time.time()
    remaining = 0
    for until in cache.get_many(keys).values():
        if until is True:  # a lock written before the end time was stored
            until = now + LOCKOUT_SECONDS
        remaining = max(remaining, math.ceil(float(until) - now))
    return max(remaining, 0)


def login_failed(*, email: str, ip: str) -> bool:
    """Counts one failed sign-in; returns True when this failure started a lockout."""
    locked = False
    for subject in _subjects(email=email, ip=ip):
        key = _failures_key(subject)
        cache.add(key, 0, WINDOW_SECONDS)  # the window starts at the first failure
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)
            failures = 1
        if failures >= MAX_FAILURES:
            cache.set(_lock_key(subject), time.time() + LOCKOUT_SECONDS, LOCKOUT_SECONDS)
            cache.delete(key)
            # The email is logged as its hash only: a log is no place for who is being attacked.
            logger.warning("Sign-in paused for 15 minutes after %d failures for %s", failures, subject[:22])
            locked = True
    return locked


def login_succeeded(*, email: str) -> None:
    """A correct password clears the email's failure count (the address keeps its own)."""
    subject = _subjects(email=email, ip="-")[-1]
    cache.delete(_failures_key(subject))
