"""HTTP endpoints of the CSP layer that Microsoft calls: the Partner Center webhook receiver."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from csp import webhooks


@csrf_exempt
@require_POST
def partner_center_webhook(request: HttpRequest) -> JsonResponse:
    """Accepts a signed delivery (202-like 200) or answers 401 to an unsigned or forged one; both are recorded."""
    receipt = webhooks.webhook_receive(
        body=request.body, headers=dict(request.headers), remote_addr=request.META.get("REMOTE_ADDR", "")
    )
    if not receipt.accepted:
        return JsonResponse(
            {"code": "invalid_signature", "message": "The delivery is not signed."}, status=401
        )
    return JsonResponse({"status": "accepted", "id": receipt.delivery.pk})
