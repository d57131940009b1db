"""The sandbox demo's receiver: a tiny stdlib HTTP server that accepts event deliveries and verifies each signature.

It plays a reseller's PSA: `python manage.py event_receiver` (in the Procfile) listens on 127.0.0.1:8766, checks
every POST with the Standard Webhooks algorithm against the secret of the endpoint registered for its URL (or the
one given with --secret), prints what arrived, and lists the latest deliveries at GET /.
"""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1024 * 1024


class Received:
    """The latest deliveries, newest first, shared by the server's threads."""

    def __init__(self, size: int = 50):
        self._items: deque[dict] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, item: dict) -> None:
        with self._lock:
            self._items.appendleft(item)

    def all(self) -> list[dict]:
        with self._lock:
            return list(self._items)


def verify(secrets: list[str], body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
    """True when one of the secrets signed this delivery (and its timestamp is within five minutes)."""
    problem = "no secret known for this URL"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers)
            return True, "signature valid"
        except WebhookVerificationError as error:
            problem = str(error)
    return False, problem


def make_server(
    host: str, port: int, secrets_for: Callable[[str], list[str]], log: Callable[[str], None] = print
) -> tuple[ThreadingHTTPServer, Received]:
    """A server whose POSTs answer 204 when signed (401 when not); `secrets_for(url)` gives the secrets to try."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            url = f"http://{self.headers.get('Host', f'{host}:{port}')}{self.path}"
            headers = {k.lower(): v for k, v in self.headers.items()}
            valid, detail = verify(secrets_for(url), body, headers)
            try:
                event_type = json.loads(body).get("type", "?")
            except (ValueError, AttributeError):
                event_type = "?"
            received.add(
                {
                    "path": self.path,
                    "webhook_id": headers.get("webhook-id", ""),
                    "type": event_type,
                    "valid": valid,
                    "detail": detail,
                    "body": body.decode("utf-8", "replace"),
                }
            )
            log(
                f"{'OK ' if valid else 'BAD'} {event_type} {headers.get('webhook-id', '')} {self.path}: {detail}"
            )
            self.send_response(204 if valid else 401)
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            rows = "".join(
                f"<tr><td>{html.escape(r['type'])}</td><td>{html.escape(r['webhook_id'])}</td>"
                f"<td>{'valid' if r['valid'] else 'INVALID: ' + html.escape(r['detail'])}</td>"
                f"<td><pre>{html.escape(r['body'])}</pre></td></tr>"
                for r in received.all()
            )
            page = (
                "<!doctype html><title>Event receiver</title><h1>Deliveries received</h1>"
                "<table border=1><tr><th>type</th><th>webhook-id</th><th>signature</th><th>body</th></tr>"
                f"{rows}</table>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer((host, port), Handler), received
