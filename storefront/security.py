"""Content-Security-Policy on every response: scripts, styles and everything else from this site only.

No inline script, style or event handler anywhere (`templates/`, admin, the API docs): behaviour lives in
`static/js/`, looks in `static/css/`, and htmx is told not to inject its indicator `<style>`. django-csp would be
the library for this, but its import name is `csp`, which is this project's Partner Center package; the header
is one setting and this middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def policy_header(policy: dict[str, list[str]]) -> str:
    """`{"default-src": ["'self'"], ...}` as a header value: `default-src 'self'; ...`."""
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in policy.items())


def sign_in_origin() -> str:
    """Microsoft's sign-in host (the sandbox in sandbox mode): the admin's Connect and the tenant administrator's
    Sign in post a form here that redirects there, and browsers hold a form's redirects to `form-action` too."""
    sandbox = settings.PARTNER_CENTER_MODE == "sandbox"
    parts = urlsplit(settings.PARTNER_CENTER_SANDBOX_URL if sandbox else settings.MICROSOFT_LOGIN_URL)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


_HEADERS: dict[tuple[str, str], str] = {}


def content_security_policy() -> str:
    """The header value: settings.CONTENT_SECURITY_POLICY, with forms also allowed to Microsoft's sign-in."""
    origin = sign_in_origin()
    key = (origin, repr(settings.CONTENT_SECURITY_POLICY))
    if key not in _HEADERS:
        policy = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
        if origin and "form-action" in policy:
            policy["form-action"].append(origin)
        _HEADERS[key] = policy_header(policy)
    return _HEADERS[key]


class ContentSecurityPolicyMiddleware:
    """Adds `Content-Security-Policy` to each response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's technical pages (DEBUG only) are built with inline styles and scripts
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response
