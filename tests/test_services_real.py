"""Against the real services CI runs: PostgreSQL row locks and a Celery worker talking through Redis."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from storefront.accounts.tasks import ping
from storefront.catalog.models import Product
from tests.factories import ProductFactory

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_skip_rows_another_worker_has_locked_on_postgresql():
    assert connection.vendor == "postgresql"
    locked, free = ProductFactory(), ProductFactory()
    seen_by_other_worker: list[int] = []
    failures: list[BaseException] = []

    def other_worker():
        try:
            with transaction.atomic():
                rows = Product.objects.select_for_update(skip_locked=True).order_by("id")
                seen_by_other_worker.extend(rows.values_list("id", flat=True))
        except BaseException as exc:  # reported in the main thread
            failures.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        assert list(Product.objects.select_for_update(skip_locked=True).filter(pk=locked.pk)) == [locked]
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=30)

    assert not failures
    assert seen_by_other_worker == [free.pk]


@pytest.fixture
def celery_worker_process():
    """A real `celery worker` in its own process, on a queue of its own, with this test's environment."""
    queue = f"storefront-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "DJANGO_SETTINGS_MODULE": "storefront.settings"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "storefront",
            "worker",
            "--pool",
            "solo",
            "-c",
            "1",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        if os.environ.get("CI"):
            print(output[-4000:])


@pytest.mark.redis
def test_a_task_round_trips_through_redis_to_a_real_worker(celery_worker_process):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    started = time.monotonic()

    result = ping.apply_async(queue=celery_worker_process)

    assert result.get(timeout=60) == "pong"
    assert result.successful() and time.monotonic() - started < 60


@pytest.mark.redis
def test_the_cache_is_shared_through_redis():
    key = f"storefront-test-{uuid.uuid4().hex}"
    cache.set(key, {"tenant": "contoso"}, timeout=30)
    try:
        assert cache.get(key) == {"tenant": "contoso"}
        assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    finally:
        cache.delete(key)


@pytest.mark.redis
def test_the_redis_cache_survives_a_fork():
    """gunicorn and Celery fork after the first cache use: the child must get its own connections, not share ours."""
    key = f"storefront-test-{uuid.uuid4().hex}"
    cache.set(key, "parent", timeout=30)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is its exit code
        ok = cache.get(key) == "parent" and cache.set(key, "child", timeout=30) is None
        os._exit(0 if ok and cache.get(key) == "child" else 1)
    _, status = os.waitpid(child, 0)
    try:
        assert os.waitstatus_to_exitcode(status) == 0
        assert cache.get(key) == "child"
    finally:
        cache.delete(key)
