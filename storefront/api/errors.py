"""One error body for the whole API: `{"code", "message", "fields"}`, whatever raised it."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from common.errors import StorefrontError

logger = logging.getLogger(__name__)


class IdempotencyKeyRequired(StorefrontError):
    code = "idempotency_key_required"
    status = 400


class InvalidCredentials(StorefrontError):
    code = "invalid_credentials"
    status = 400


# DRF's own exceptions, by class, with the code the API answers (the message stays DRF's).
_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "invalid"),
    (exceptions.ValidationError, "invalid"),
]


def too_large_message() -> str:
    return f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as `{"lines.0.quantity": ["..."]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix or "non_field_errors"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_message(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "The request is not valid."
    name, messages = next(iter(fields.items()))
    if name == "non_field_errors":
        return messages[0]
    return f"{name}: {messages[0]}"


def _drf_error(exc: exceptions.APIException) -> tuple[str, str, dict[str, list[str]]]:
    code = next((code for cls, code in _DRF_CODES if isinstance(exc, cls)), str(exc.default_code))
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return code, _validation_message(fields), fields
    return code, str(exc.detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: the service errors by their code and status, DRF's in the same shape."""
    if isinstance(exc, StorefrontError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("request_too_large", too_large_message()), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)  # keeps WWW-Authenticate, Allow and Retry-After
    if response is None:
        logger.error("Unhandled error in the API", exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", "Something went wrong on our side. Please try again later."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code, message, fields = _drf_error(exc)
    response.data = error_body(code, message, fields)
    return response


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer the API's 404 body rather than an HTML page."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)
