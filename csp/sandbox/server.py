"""The sandbox HTTP server: Partner Center, sign-in, Graph and the admin portal on one port.

    server = SandboxServer(host="127.0.0.1", port=0).start()
    server.url      # "http://127.0.0.1:54321"
    server.state    # the in-memory store, for assertions
    server.stop()

Plain stdlib (ThreadingHTTPServer) so it shares nothing with the storefront's client code.
"""

from __future__ import annotations

import base64
import logging
import secrets
import socket
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from csp.sandbox import catalog, control, graph, partner_center, portal, signin, webhooks
from csp.sandbox.state import FaultDecision, SandboxError, SandboxState
from csp.sandbox.web import (
    CONTROL,
    GRAPH,
    PARTNER_CENTER,
    SIGNIN,
    Request,
    Response,
    Route,
    Router,
    graph_error,
    json_response,
    pc_error,
    render_error,
)
from csp.sandbox.webhooks import WebhookSigner

logger = logging.getLogger(__name__)

MALFORMED_BODY = b'{"totalCount": 1, "items": [{"id": "'


def kind_of_path(path: str) -> str:
    """Which host an unmatched path belongs to, to answer in the right error shape."""
    lowered = path.lower()
    if lowered.startswith("/_sandbox"):
        return CONTROL
    if lowered.startswith("/v1.0/"):
        return GRAPH
    if lowered.startswith(("/v1/", "/webhooks/")):
        return PARTNER_CENTER
    return SIGNIN


class SandboxApp:
    """Routing, auth, faults and response headers around the per-host handlers."""

    def __init__(self, state: SandboxState, signer: WebhookSigner) -> None:
        self.state = state
        self.signer = signer
        # Sign-in routes are generic ("/{tenant}/..."), so they come last.
        self.router = Router(
            control.routes()
            + portal.routes()
            + partner_center.routes()
            + catalog.routes()
            + graph.routes()
            + signin.routes()
        )

    # -- events that produce webhooks ---------------------------------------------------------------------

    def relationship_accepted(self, base_url: str, tenant_id: str, indirect: bool) -> str:
        event = (
            "indirect-reseller-relationship-accepted-by-customer"
            if indirect
            else "reseller-relationship-accepted-by-customer"
        )
        webhooks.deliver(
            self.state, self.signer, base_url, event, f"{base_url}/v1/customers/{tenant_id}", tenant_id
        )
        return event

    def gdap_approved(self, base_url: str, relationship_id: str) -> None:
        uri = f"{base_url}{graph.BASE}/{relationship_id}"
        webhooks.deliver(
            self.state, self.signer, base_url, "granular-admin-relationship-approved", uri, relationship_id
        )

    # -- request handling ---------------------------------------------------------------------------------

    def prepare(self, req: Request) -> tuple[Route | None, dict[str, str], bool, str, FaultDecision]:
        """Match the route, count the request and draw its fault, all under the lock."""
        route, params, path_exists = self.router.match(req.method, req.path)
        kind = route.kind if route else kind_of_path(req.path)
        endpoint = f"{req.method} {route.pattern if route else '(unmatched)'}"
        with self.state.lock:
            if kind != CONTROL:
                self.state.record_request(endpoint, req.method, req.target, req.request_id)
            decision = self.state.take_fault(
                req.target, default_scope=kind in (PARTNER_CENTER, GRAPH), microsoft=kind != CONTROL
            )
        return route, params, path_exists, kind, decision

    def fault_response(self, kind: str, decision: FaultDecision) -> Response | None:
        params = decision.params
        if decision.action == "throttle":
            seconds = int(params.get("retry_after", 1))
            message = f"Rate limit is exceeded. Try again in {seconds} seconds."
            if kind == GRAPH:
                response = graph_error(429, "TooManyRequests", message)
            else:
                response = json_response(429, {"statusCode": 429, "message": message})
            response.headers["Retry-After"] = str(seconds)
            return response
        if decision.action == "fail":
            status = int(params.get("status", 503))
            text = (
                params.get("description")
                or "The service is temporarily unavailable. Please retry. (sandbox fault)"
            )
            if kind == GRAPH:
                return graph_error(status, "ServiceUnavailable", text)
            return pc_error(status, int(params.get("code", status)), text)
        if decision.action == "malformed":
            return Response(
                int(params.get("status", 200)), MALFORMED_BODY, {}, "application/json; charset=utf-8"
            )
        return None

    def dispatch(
        self, req: Request, route: Route | None, params: dict[str, str], path_exists: bool, kind: str
    ) -> Response:
        if route is None:
            if path_exists:
                return render_error(
                    kind, SandboxError(405, f"The method {req.method} is not allowed here.", 405)
                )
            return render_error(kind, SandboxError(404, f"The resource {req.path} was not found.", 404))
        if route.auth and not self._authorized(req):
            if kind == GRAPH:
                response = graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            else:
                response = pc_error(
                    401, 401, "Unauthorized: the bearer token is missing, invalid or expired."
                )
            response.headers["WWW-Authenticate"] = 'Bearer realm="sandbox", error="invalid_token"'
            return response
        try:
            with self.state.lock:
                return route.handler(self, req, **params)
        except SandboxError as exc:
            return render_error(kind, exc)
        except Exception:  # a bug in the sandbox must still answer like a server
            logger.exception("sandbox handler failed for %s %s", req.method, req.target)
            return render_error(kind, SandboxError(500, "Internal server error (sandbox).", 500))

    def _authorized(self, req: Request) -> bool:
        header = req.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        with self.state.lock:
            return self.state.token_valid(token.strip())


def response_headers(req: Request, kind: str) -> dict[str, str]:
    """Echo MS-RequestId and MS-CorrelationId, add MS-CV and MS-ServerId (Graph: request-id)."""
    headers = {
        "MS-RequestId": req.header("MS-RequestId") or str(uuid.uuid4()),
        "MS-CorrelationId": req.header("MS-CorrelationId") or str(uuid.uuid4()),
        "MS-CV": base64.b64encode(secrets.token_bytes(12)).decode() + ".0",
        "MS-ServerId": "sandbox-101",
    }
    if kind == GRAPH:
        headers["request-id"] = str(uuid.uuid4())
        headers["client-request-id"] = req.header("client-request-id") or headers["request-id"]
    return headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PartnerCenterSandbox/1.0"
    timeout = 120  # idle keep-alive connections do not hold a thread forever
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        app = self.server.app
        body = self._read_body()
        scheme = self.headers.get("X-Forwarded-Proto") or "http"
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request.build(self.command, self.path, dict(self.headers.items()), body, f"{scheme}://{host}")
        route, params, path_exists, kind, decision = app.prepare(req)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000)
        if decision.action == "reset":
            self._reset_connection()
            return
        response = app.fault_response(kind, decision) or app.dispatch(req, route, params, path_exists, kind)
        if decision.action == "timeout":
            # The work is done but the answer comes late, as when Microsoft times out after acting.
            time.sleep(float(decision.params.get("seconds", 30)))
        self._send(req, kind, response)

    def _send(self, req: Request, kind: str, response: Response) -> None:
        try:
            self.send_response(response.status)
            headers = {**response_headers(req, kind), **response.headers}
            if response.content_type:
                headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(response.body))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset_connection(self) -> None:
        """Drop the connection with a TCP reset and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxApp, quiet: bool) -> None:
        self.app = app
        self.quiet = quiet
        super().__init__(address, _Handler)


class SandboxServer:
    """The public entry point: build, start in a background thread or serve in the foreground, stop."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: int = 0,
        quiet: bool = True,
        **config: Any,
    ):
        self.state = SandboxState(base_latency_ms=latency_ms, **config)
        self.signer = WebhookSigner()
        self.app = SandboxApp(self.state, self.signer)
        self._httpd = _HTTPServer((host, port), self.app, quiet)
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self so `SandboxServer().start()` reads well in fixtures."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="partner-center-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the management command)."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
