"""The storefront served by gunicorn on a free port, in sandbox mode, over the test database (for tests that need a
real HTTP server in another process: schemathesis's CLI, a generated client)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shared_database_url() -> str:
    """The database this test runs on (pytest-django's test database), as a DATABASE_URL for another process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@contextmanager
def storefront_server(*, sandbox_url: str, log_path: Path) -> Iterator[str]:
    """Starts gunicorn on the test database, talking to the given Partner Center sandbox; yields its base URL.

    Orders are placed inline (eager worker), the cache is a file cache of its own, and the lookup and token rates are generous: a schema run is about
    shapes, throttling is tested on its own.
    """
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DATABASE_URL": shared_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        # Its own cache and queue folders: sign-in lockouts and throttle counters start empty and stay private.
        "REDIS_URL": "",
        "STOREFRONT_VAR_DIR": str(log_path.parent / "var"),
        "PARTNER_CENTER_MODE": "sandbox",
        "PARTNER_CENTER_SANDBOX_URL": sandbox_url,
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOOKUP_THROTTLE_RATE": "100000/min",
        "TOKEN_THROTTLE_RATE": "100000/min",
        "STOREFRONT_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "storefront.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base_url, process, log_path)
            yield base_url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_until_serving(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if requests.get(f"{base_url}/api/schema/?format=json", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not serve within 60 seconds:\n{log_path.read_text()[-4000:]}")


@pytest.fixture
def _seed_rows_back_after_flush(django_db_blocker):
    """After a transactional test the tables are empty, for every later test of a reused database too: put back
    what the migrations seeded (set up before transactional_db, so torn down after its flush)."""
    yield
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


@pytest.fixture
def live_storefront(
    _seed_rows_back_after_flush, django_db_serialized_rollback, transactional_db, sandbox, tmp_path
):
    """The base URL of gunicorn serving the storefront over this test's (committed) data and the sandbox.

    The data is committed for the server to see; the tables are emptied afterwards and the rows the migrations
    seed (GDAP role templates) put back, so later tests find the database as they expect.
    """
    with storefront_server(sandbox_url=sandbox.url, log_path=tmp_path / "gunicorn.log") as base_url:
        yield base_url


def with_real_password_hash(user):
    """The server in another process has the real password hashers, not the tests' fast one."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "livetest", iterations=1000)
    user.save(update_fields=["password"])
    return user
