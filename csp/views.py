"""HTTP endpoints of the CSP layer that Microsoft calls: the Partner Center webhook receiver."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited

from csp import tasks, webhooks


def _error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _body_limit() -> int:
    """The receiver's own ceiling, or Django's when that is lower."""
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return min(settings.WEBHOOK_MAX_BODY_BYTES, django_limit if django_limit is not None else 2**63)


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > _body_limit()


def _too_large_answer() -> JsonResponse:
    return _error(413, "request_too_large", f"A delivery is at most {_body_limit()} bytes.")


def _json_or_unnamed(request: HttpRequest) -> bool:
    """Microsoft posts JSON; a delivery that names another media type is not one of its deliveries."""
    media_type = (request.content_type or "").lower()
    return media_type in {"", "application/json", "text/json"} or media_type.endswith("+json")


@csrf_exempt
def partner_center_webhook(request: HttpRequest) -> JsonResponse:
    """Accepts a signed delivery (200) or answers 401 to an unsigned or forged one; both are recorded (capped)."""
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Send deliveries with POST.", Allow="POST")
    if is_ratelimited(
        request, group="csp:webhook", key="ip", rate=settings.WEBHOOK_RATE_LIMIT, increment=True
    ):
        return _error(
            429,
            "throttled",
            "Too many deliveries from this address; try again in a minute.",
            **{"Retry-After": "60"},
        )
    if _too_large(request):
        return _too_large_answer()
    if not _json_or_unnamed(request):
        return _error(415, "unsupported_media_type", "Deliveries are JSON (Content-Type: application/json).")
    try:
        body = request.body
    except RequestDataTooBig:
        return _too_large_answer()
    receipt = webhooks.webhook_receive(
        body=body, headers=dict(request.headers), remote_addr=request.META.get("REMOTE_ADDR", "")
    )
    if not receipt.accepted:
        return _error(401, "invalid_signature", "The delivery is not signed.")
    if receipt.to_process:  # a broker outage loses nothing: the delivery is recorded and polling re-checks
        delivery_id = receipt.delivery.pk
        transaction.on_commit(lambda: tasks.webhook_process.delay(delivery_id), robust=True)
    return JsonResponse({"status": "accepted", "id": receipt.delivery.pk})
