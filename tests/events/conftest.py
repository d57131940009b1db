"""Event notification fixtures: a tiny local receiver (an HTTP server in the test) and endpoints pointing at it."""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from storefront.events.models import EventType
from storefront.events.services import event_endpoint_create


@dataclass
class Scripted:
    status: int = 204
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class LocalReceiver:
    """Records every POST; answers the scripted responses in order, then 204."""

    def __init__(self):
        self.requests: list[Received] = []
        self.script: deque[Scripted] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = receiver.script.popleft() if receiver.script else Scripted()
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except BrokenPipeError:  # the sender gave up waiting (the timeout test)
                    pass

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, *scripted: Scripted) -> None:
        self.script.extend(scripted)


@pytest.fixture
def receiver():
    local = LocalReceiver()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    """Sandbox mode and tests may deliver to 127.0.0.1; production never does."""
    settings.EVENT_ENDPOINTS_ALLOW_LOOPBACK = True
    settings.EVENT_DELIVERY_TIMEOUT = 5.0


@pytest.fixture
def loopback_refused(settings):
    settings.EVENT_ENDPOINTS_ALLOW_LOOPBACK = False


@pytest.fixture
def endpoint_with_secret(owner, receiver, loopback_allowed):
    """Fabrikam's endpoint at the local receiver, wanting every event; (endpoint, whsec_ secret)."""
    return event_endpoint_create(
        organization_id=owner.organization_id,
        user_id=owner.pk,
        url=f"{receiver.url}/hooks/fabrikam",
        event_types=list(EventType.values),
    )


@pytest.fixture
def endpoint(endpoint_with_secret):
    return endpoint_with_secret[0]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks, eager_worker):
    """Runs what a block queues on commit, with the worker's tasks inline: `with run_on_commit(): ...`."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
