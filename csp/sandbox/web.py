"""The sandbox's tiny web layer: request/response objects, a router and the error shapes of each host."""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from csp.sandbox.state import SandboxError, now_iso

# Route kinds: who answers, which auth applies and which error shape is used.
PARTNER_CENTER = "partner_center"
GRAPH = "graph"
SIGNIN = "signin"
PORTAL = "portal"
CONTROL = "control"


@dataclass
class Request:
    method: str
    path: str
    target: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str) -> Request:
        path, _, raw_query = target.partition("?")
        # Partner Center is ASP.NET: query names are case-insensitive.
        query = {k.lower(): v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        return cls(method, path, target, query, {k.lower(): v for k, v in headers.items()}, body, base_url)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SandboxError(400, "The request body is not valid JSON.", 2000) from exc

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise SandboxError(400, "The request body must be a JSON object.", 2000)
        return data

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    @property
    def request_id(self) -> str | None:
        return self.header("MS-RequestId")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data).encode(), dict(headers or {}), "application/json; charset=utf-8")


def html_response(status: int, page: str) -> Response:
    return Response(status, page.encode(), {}, "text/html; charset=utf-8")


def empty(status: int) -> Response:
    return Response(status)


def pc_error(status: int, code: int | str, description: str, data: list[Any] | None = None) -> Response:
    """Partner Center's error body (partner-center-api.md 0.3)."""
    body = {"code": code, "description": description, "data": data or [], "source": "PartnerFD"}
    return json_response(status, body)


def graph_error(status: int, code: str, message: str) -> Response:
    """Microsoft Graph's error body."""
    inner = {
        "date": now_iso(),
        "request-id": secrets.token_hex(16),
        "client-request-id": secrets.token_hex(16),
    }
    return json_response(status, {"error": {"code": code, "message": message, "innerError": inner}})


GRAPH_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
}


def render_error(kind: str, error: SandboxError) -> Response:
    """A SandboxError in the shape of the host that was called."""
    if kind == GRAPH:
        code = error.code if isinstance(error.code, str) else GRAPH_CODES.get(error.status, "BadRequest")
        return graph_error(error.status, code, error.message)
    if kind == PARTNER_CENTER:
        return pc_error(error.status, error.code, error.message)
    if kind == PORTAL:
        return html_response(
            error.status, page("Something went wrong", f"<p class=error>{esc(error.message)}</p>")
        )
    return json_response(error.status, {"error": error.message, "code": error.code})


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: str
    handler: Handler
    kind: str
    auth: bool = True
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        # "{name}" captures one path segment; matching is case-insensitive like Microsoft's hosts.
        source = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        self.regex = re.compile(f"^{source}$", re.IGNORECASE)

    @property
    def name(self) -> str:
        return f"{self.method} {self.pattern}"


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for a request, its path parameters, and whether the path exists for another method."""
        path_exists = False
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict(), True
            path_exists = True
        return None, {}, path_exists


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, script: str = "") -> str:
    """A small Microsoft-365-admin-like HTML page."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - Microsoft 365 admin center (sandbox)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: "Segoe UI", system-ui, sans-serif; margin: 0; background: #f3f2f1; color: #323130; }}
header {{ background: #0078d4; color: #fff; padding: 12px 24px; font-weight: 600; }}
main {{ max-width: 640px; margin: 32px auto; background: #fff; padding: 24px 32px; border-radius: 4px; }}
label {{ display: block; font-weight: 600; margin: 16px 0 4px; }}
input {{ width: 100%; padding: 8px; box-sizing: border-box; }}
button {{ margin-top: 16px; background: #0078d4; color: #fff; border: 0; padding: 10px 20px; }}
.error {{ color: #a4262c; }} .success {{ color: #107c10; }} dt {{ font-weight: 600; }}
</style></head>
<body><header>Microsoft 365 admin center (sandbox)</header>
<main><h1>{esc(title)}</h1>
{body}
</main>{script}</body></html>
"""
