"""Settings come from the environment: each case imports them in a fresh interpreter with only that environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables the settings (or Django's own checks) read; tests start from none of them set.
CONTROLLED_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "CELERY_",
    "PARTNER_CENTER_",
    "STOREFRONT_",
    "MICROSOFT_",
)
SECRET_KEY = "k" * 30 + "3Xz9-Qw7_Lp2!Vb6Nm4@Rt8#Yu1$Hg5%"
PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": SECRET_KEY,
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
}


def environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(CONTROLLED_PREFIXES)}
    env.update(STOREFRONT_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="storefront.settings")
    env.update(overrides)
    return env


def load_settings(tmp_path: Path, **overrides: str) -> dict:
    """Import storefront.settings in a subprocess and return the values the tests look at."""
    code = (
        "import json\n"
        "from storefront import settings as s\n"
        "print(json.dumps({'db': s.DATABASES['default'], 'broker': s.CELERY_BROKER_URL,"
        " 'backend': s.CELERY_RESULT_BACKEND, 'transport': getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', {}),"
        " 'cache': s.CACHES['default'], 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS}, default=str))\n"
    )
    result = run([sys.executable, "-c", code], tmp_path, **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(command: list[str], tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=BASE_DIR,
        env=environment(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_database_url_is_parsed_into_the_django_database(tmp_path):
    values = load_settings(tmp_path, DATABASE_URL="postgres://shop:s3cret@db.internal:6543/storefront")

    db = values["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], str(db["PORT"])) == (
        "storefront",
        "shop",
        "s3cret",
        "db.internal",
        "6543",
    )
    assert db["CONN_MAX_AGE"] == 60 and db["CONN_HEALTH_CHECKS"] is True


def test_without_database_url_a_sqlite_file_under_var_is_used(tmp_path):
    db = load_settings(tmp_path)["db"]

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var" / "storefront.sqlite3")


def test_redis_url_makes_redis_the_celery_broker_and_the_cache(tmp_path):
    values = load_settings(tmp_path, REDIS_URL="redis://cache.internal:6380/3")

    assert values["broker"] == "redis://cache.internal:6380/3"
    assert values["backend"] == "redis://cache.internal:6380/3"
    assert values["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert values["cache"]["LOCATION"] == "redis://cache.internal:6380/3"


def test_without_redis_url_celery_uses_a_filesystem_broker_under_var(tmp_path):
    values = load_settings(tmp_path)
    var = tmp_path / "var"

    assert values["broker"] == "filesystem://"
    assert values["transport"]["data_folder_in"] == str(var / "celery" / "queue")
    assert values["transport"]["data_folder_out"] == str(var / "celery" / "queue")
    assert values["backend"].startswith("file://") and str(var) in values["backend"]
    assert values["cache"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert (var / "celery" / "queue").is_dir()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must list"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing, message):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = run([sys.executable, "-c", "import storefront.settings"], tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = run(
        [sys.executable, "-c", "import storefront.settings"],
        tmp_path,
        **{**PRODUCTION, "DJANGO_SECRET_KEY": "short"},
    )
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


def test_live_partner_center_mode_needs_a_client_secret(tmp_path):
    result = run([sys.executable, "-c", "import storefront.settings"], tmp_path, PARTNER_CENTER_MODE="live")
    assert result.returncode != 0 and "PARTNER_CENTER_CLIENT_SECRET" in result.stderr


def test_production_with_everything_set_passes_check_deploy_without_warnings(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert load_settings(tmp_path, **PRODUCTION)["debug"] is False


def test_compose_runs_web_worker_and_beat_from_one_image_with_the_makefiles_commands():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    procfile = dict(line.split(": ", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line)
    services = compose["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16" and services["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "." and services[name]["image"] == services["web"]["image"]
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        for passed_through in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PARTNER_CENTER_CLIENT_SECRET"):
            assert env[passed_through].startswith("${" + passed_through)
    assert " ".join(services["web"]["command"]) == "gunicorn storefront.wsgi -b 0.0.0.0:8000 --workers 3"
    assert " ".join(services["worker"]["command"]) == procfile["worker"]
    assert " ".join(services["beat"]["command"]) == procfile["beat"]


def test_queueing_work_with_redis_down_fails_within_seconds_not_twenty(tmp_path):
    """Place order, the API's POST /orders/ and the webhook receiver queue work inside the request (their pages
    keep the work for beat's resume pass when that fails): with Redis down, Celery's result store retried its
    reconnection for about 19 s first, most of gunicorn's 30 s, on each of those requests."""
    code = (
        "import time, django\n"
        "django.setup()\n"
        "from csp.tasks import order_place\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    order_place.delay(1)\n"
        "except Exception:\n"
        "    pass\n"
        "print(round(time.monotonic() - started, 1))\n"
    )
    result = run(
        [sys.executable, "-c", code],
        tmp_path,
        REDIS_URL="redis://127.0.0.1:9/0",  # nothing listens on the discard port
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )

    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) < 5
