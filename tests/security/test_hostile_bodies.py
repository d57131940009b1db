"""Hostile request bodies, at the API and at the Partner Center webhook receiver: a 4xx in the API's error shape
(`{"code", "message"}`), never a 500; the receiver keeps a capped record of unsigned deliveries and is rate-limited
per client address."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from csp.models import WebhookDelivery
from csp.sandbox.webhooks import CERTIFICATE_PATH
from storefront.accounts.tokens import api_token_create

pytestmark = pytest.mark.django_db
WEBHOOK = "/csp/webhooks/partner-center/"
DEEP_ARRAY = b"[" * 20_000 + b"]" * 20_000  # 40 kB: under every size limit
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
SHALLOW_BUT_TOO_DEEP = b"[" * 40 + b"]" * 40  # parses, but no body of ours nests past 32 levels


def _api_client(user) -> Client:
    _, secret = api_token_create(user=user, name="hostile bodies")
    return Client(
        HTTP_AUTHORIZATION=f"Token {secret}",
        HTTP_IDEMPOTENCY_KEY="hostile-1",
        raise_request_exception=False,
    )


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] and "Traceback" not in body["message"], body
    return body


@pytest.mark.parametrize(
    "route", ["api:end-customers", "api:orders", "api:authorizations", "events_api:endpoints"]
)
def test_api_answers_400_to_json_nested_thousands_deep(owner, route):
    client = _api_client(owner)
    for body in (DEEP_ARRAY, DEEP_OBJECT, SHALLOW_BUT_TOO_DEEP):
        response = client.generic("POST", reverse(route), body, content_type="application/json")
        assert "nested too deeply" in _error(response, 400, "invalid")["message"]


def test_api_answers_413_above_the_configured_body_size(owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = _api_client(owner)
    body = json.dumps({"company_name": "x" * 20_000}).encode()
    response = client.generic("POST", reverse("api:end-customers"), body, content_type="application/json")
    assert "10000 bytes" in _error(response, 413, "request_too_large")["message"]
    small = json.dumps({"company_name": "x" * 100}).encode()
    response = client.generic("POST", reverse("api:end-customers"), small, content_type="application/json")
    _error(response, 400, "invalid")  # under the limit: the usual field errors


def test_api_answers_400_to_bodies_that_are_not_utf8_json(owner):
    client = _api_client(owner)
    url = reverse("api:end-customers")
    cases = [
        (b'{"company_name": "\xff\xfe"}', "application/json", "UTF-8"),
        (b'{"company_name": "Contoso"}', "application/json; charset=klingon", "required"),  # read as UTF-8
        ('{"company_name": "Zoë"}'.encode("utf-16"), "application/json", "UTF-8"),
        (b'{"company_name": NaN}', "application/json", "JSON"),
        (b"\x00\x01\x02", "application/json", ""),
    ]
    for body, content_type, words in cases:
        response = client.generic("POST", url, body, content_type=content_type)
        assert words in _error(response, 400, "invalid")["message"], body


def test_api_answers_415_to_other_content_types(owner):
    client = _api_client(owner)
    for content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "multipart/form-data",
        "text/plain",
        "application/xml",
        "",
    ):
        response = client.generic("POST", reverse("api:orders"), b"a=1&b=2", content_type=content_type)
        _error(response, 415, "unsupported_media_type")


def test_webhook_refuses_hostile_bodies_in_the_error_shape(client, sandbox, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 4_096
    too_large = client.generic("POST", WEBHOOK, b"{}" + b" " * 5_000, content_type="application/json")
    assert "4096 bytes" in _error(too_large, 413, "request_too_large")["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000  # Django's own ceiling, below the receiver's: still a 413
    response = client.generic("POST", WEBHOOK, b" " * 2_000, content_type="application/json")
    assert "1000 bytes" in _error(response, 413, "request_too_large")["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.WEBHOOK_MAX_BODY_BYTES = 2_621_440, 65_536
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=z",
    ):
        response = client.generic("POST", WEBHOOK, b"a=1", content_type=content_type)
        _error(response, 415, "unsupported_media_type")
    for body in (DEEP_ARRAY, b"\xff\xfe\x00", b"{not json"):
        response = client.generic("POST", WEBHOOK, body, content_type="application/json")
        _error(response, 401, "invalid_signature")
    _error(client.get(WEBHOOK), 405, "method_not_allowed")
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.REJECTED).count() == 3


def test_a_signed_delivery_nested_thousands_deep_is_recorded_as_unreadable(client, sandbox):
    headers = {
        "HTTP_AUTHORIZATION": f"Signature {sandbox.signer.sign(DEEP_ARRAY)}",
        "HTTP_X_MS_CERTIFICATE_URL": sandbox.url + CERTIFICATE_PATH,
        "HTTP_X_MS_SIGNATURE_ALGORITHM": "rsa-sha256",
    }
    response = client.generic("POST", WEBHOOK, DEEP_ARRAY, content_type="application/json", **headers)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.signature_valid, delivery.status) == (True, WebhookDelivery.Status.FAILED)
    assert "not JSON" in delivery.result


def test_unsigned_deliveries_are_kept_capped_and_truncated(client, sandbox, settings):
    settings.WEBHOOK_REJECTED_KEPT = 5
    settings.WEBHOOK_RATE_LIMIT = "1000/m"
    for n in range(12):
        body = json.dumps({"EventName": f"forged-{n}", "Padding": "x" * 10_000}).encode()
        assert client.post(WEBHOOK, body, content_type="application/json").status_code == 401
    kept = list(WebhookDelivery.objects.order_by("id"))
    assert len(kept) == 5
    assert all(len(d.body) <= 2_000 for d in kept)
    assert '"forged-11"' in kept[-1].body and '"forged-7"' in kept[0].body


def test_webhook_is_rate_limited_per_client_address(sandbox, settings):
    settings.WEBHOOK_RATE_LIMIT = "5/m"
    noisy, other = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.9")
    answers = [noisy.post(WEBHOOK, b"{}", content_type="application/json").status_code for _ in range(8)]
    assert answers == [401] * 5 + [429] * 3
    body = _error(noisy.post(WEBHOOK, b"{}", content_type="application/json"), 429, "throttled")
    assert body["message"]
    assert other.post(WEBHOOK, b"{}", content_type="application/json").status_code == 401
    assert WebhookDelivery.objects.count() == 6  # the refused ones are not even recorded
