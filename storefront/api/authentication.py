"""`Authorization: Token <token>`, checked against knox's hashed tokens (`accounts.ApiToken`)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication

from storefront.accounts.models import ApiToken

LAST_USED_EVERY = timedelta(minutes=5)


class ApiTokenAuthentication(TokenAuthentication):
    """Knox's token check: an expired token is refused (and removed), a deactivated user's tokens stop working at
    once, and `last_used_at` is kept (every 5 minutes at most, so a busy integration does not write on each call)."""

    def authenticate_credentials(self, token: bytes):
        answer = super().authenticate_credentials(token)
        api_token: ApiToken = answer[1]
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return answer

    def _cleanup_token(self, auth_token) -> bool:
        """Only this token's own expiry (knox also sweeps the user's other tokens on every call)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema, as `tokenAuth` (the name DRF's own token scheme had)."""

    target_class = "storefront.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A token from `POST /api/v1/auth/token/`, sent with the prefix "Token".',
        }
