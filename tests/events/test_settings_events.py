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
