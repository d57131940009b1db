"""API tokens (django-rest-knox, `accounts.ApiToken`): created named and with an expiry, listed, revoked."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.settings import knox_settings

from .models import ApiToken, User

NAME_MAX_LENGTH = 100
LONGEST_DAYS = 365


def api_token_create(*, user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret, which exists only in this answer (the database keeps its hash)."""
    expiry = timedelta(days=days) if days else knox_settings.TOKEN_TTL
    name = " ".join(str(name).split())[:NAME_MAX_LENGTH] or f"Token of {timezone.now():%Y-%m-%d %H:%M} UTC"
    return ApiToken.objects.create(user=user, expiry=expiry, name=name)


def api_tokens_active(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


def api_token_revoke(*, user: User, public_id: str) -> bool:
    """Revokes one of the user's own tokens at once; another user's id is simply not found."""
    deleted, _ = ApiToken.objects.filter(user=user, public_id=str(public_id)[:32]).delete()
    return deleted > 0
