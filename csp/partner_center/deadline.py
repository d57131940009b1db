"""A page's time for Microsoft: inside `answer_within`, every attempt (sign-in, urllib3's retries, msal's own
calls) waits only what is left of it, and none starts once it is spent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import requests
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.timeout import Timeout

MIN_ATTEMPT_SECONDS = 0.5
_deadline: ContextVar[float | None] = ContextVar("partner_center_deadline", default=None)


@contextmanager
def answer_within(seconds: float) -> Iterator[None]:
    """Inside it, all Partner Center calls together get `seconds` (one page: a buyer waiting, and the web server's
    own time limit): each attempt waits at most what is left, and a call made once it is spent fails at once as
    Microsoft not answering."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline() -> float | None:
    """When the page's time ends (time.monotonic()), or None outside `answer_within`."""
    return _deadline.get()


class AttemptTimeout(Timeout):
    """urllib3 clones the timeout at every attempt, its retries included: each clone gets the configured timeout
    or what is left of the page's time, whichever is less, and no attempt starts once too little is left."""

    def __init__(self, configured: float, until: float) -> None:
        self.configured = configured
        self.until = until
        left = until - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise ReadTimeoutError(None, "", "Microsoft did not answer in the time a page waits")  # type: ignore[arg-type]
        limit = min(configured, left)
        super().__init__(connect=limit, read=limit)

    def clone(self) -> AttemptTimeout:
        return AttemptTimeout(self.configured, self.until)


def attempt_timeout(configured: float) -> float | Timeout:
    """The timeout to give requests for one call: the configured one, or inside a page an AttemptTimeout; once
    the page's time is spent, requests' own Timeout (callers already turn it into Microsoft not answering)."""
    until = _deadline.get()
    if until is None:
        return configured
    if until - time.monotonic() < MIN_ATTEMPT_SECONDS:
        raise requests.Timeout("Microsoft did not answer in the time a page waits")
    return AttemptTimeout(configured, until)
