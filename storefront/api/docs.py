"""Browsable API docs that work offline: Swagger UI from drf-spectacular-sidecar when installed, else a plain page."""

from __future__ import annotations

import importlib.util
import mimetypes
from functools import cache
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator

SWAGGER_ASSETS = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
}
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def swagger_dist() -> Path | None:
    """The Swagger UI files vendored by drf-spectacular-sidecar, or None when it is not installed."""
    spec = importlib.util.find_spec("drf_spectacular_sidecar")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = (
        Path(next(iter(spec.submodule_search_locations))) / "static/drf_spectacular_sidecar/swagger-ui-dist"
    )
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


@require_GET
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    folder = swagger_dist()
    if folder is None or name not in SWAGGER_ASSETS:
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((folder / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>CSP Storefront API</title>
  <link rel="stylesheet" href="{assets}swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-schema-url="{schema_url}"></div>
  <script src="{assets}swagger-ui-bundle.js"></script>
  <script src="{assets}swagger-ui-standalone-preset.js"></script>
  <script src="{start_script}"></script>
</body>
</html>
"""


def _operations_page(request: HttpRequest, schema_url: str) -> str:
    """A self-contained list of the operations, read from the same schema, for when Swagger UI is absent."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    rows = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation:
                codes = ", ".join(str(code) for code in operation.get("responses", {}))
                rows.append(
                    (
                        method.upper(),
                        path,
                        operation.get("summary", ""),
                        operation.get("description", ""),
                        codes,
                    )
                )
    body = format_html_join(
        "\n",
        "<tr><td><code>{}</code></td><td><code>{}</code></td><td><strong>{}</strong><br>{}</td><td>{}</td></tr>",
        rows,
    )
    return format_html(
        """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{stylesheet}"></head>
<body><h1>{title} {version}</h1><p>{description}</p>
<p>Authenticate with <code>Authorization: Token &lt;token&gt;</code> (from <code>POST /api/v1/auth/token/</code>)
or a signed-in session. Errors answer <code>{{"code", "message", "fields"}}</code>.
The full OpenAPI 3 schema: <a href="{schema_url}">{schema_url}</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>answers</th></tr></thead>
<tbody>{body}</tbody></table></body></html>""",
        title=schema["info"]["title"],
        version=schema["info"]["version"],
        description=schema["info"].get("description", ""),
        schema_url=schema_url,
        body=body,
        stylesheet=static("css/api-docs.css"),
    )


@require_GET
@ensure_csrf_cookie
def docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI served from this server (no CDN), or the plain operations page."""
    schema_url = reverse("api:schema")
    if swagger_dist() is not None:
        assets = reverse("api:docs-asset", args=["x"])[:-1]
        html = SWAGGER_PAGE.format(
            assets=escape(assets),
            schema_url=escape(schema_url),
            start_script=escape(static("js/api-docs.js")),
        )
    else:
        html = _operations_page(request, schema_url)
    return HttpResponse(html, content_type="text/html; charset=utf-8")
