"""Content-Security-Policy on every response: scripts, styles and everything else from this site only.

No inline script, style or event handler anywhere (`templates/`, admin, the API docs): behaviour lives in
`static/js/`, looks in `static/css/`, and htmx is told not to inject its indicator `<style>`. django-csp would be
the library for this, but its import name is `csp`, which is this project's Partner Center package; the header
is one setting and this middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def policy_header(policy: dict[str, list[str]]) -> str:
    """`{"default-src": ["'self'"], ...}` as a header value: `default-src 'self'; ...`."""
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds `Content-Security-Policy` (settings.CONTENT_SECURITY_POLICY) to each response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's technical pages (DEBUG only) are built with inline styles and scripts
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
