"""Loopback deliveries are a sandbox convenience: on by default there, off in production and refused if asked."""

import sys

from tests.test_settings import PRODUCTION, run

CODE = (
    "from storefront import settings as s; print(s.EVENT_ENDPOINTS_ALLOW_LOOPBACK, s.EVENT_DELIVERY_TIMEOUT)"
)


def test_sandbox_development_allows_loopback_for_the_demo_receiver(tmp_path):
    result = run([sys.executable, "-c", CODE], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "5.0"]


def test_production_refuses_loopback_deliveries(tmp_path):
    result = run([sys.executable, "-c", CODE], tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
    refused = run([sys.executable, "-c", CODE], tmp_path, **PRODUCTION, EVENT_ENDPOINTS_ALLOW_LOOPBACK="true")
    assert refused.returncode != 0
    assert "EVENT_ENDPOINTS_ALLOW_LOOPBACK cannot be set in production" in refused.stderr


def test_compose_and_procfile_run_a_worker_on_the_events_queue():
    import yaml

    from tests.test_settings import BASE_DIR

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    procfile = dict(line.split(": ", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line)
    assert " ".join(compose["services"]["events"]["command"]) == procfile["events"]
    assert "-Q events" in procfile["events"]
    assert procfile["receiver"] == "python manage.py event_receiver --port 8766"
