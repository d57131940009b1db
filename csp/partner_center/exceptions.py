"""Errors raised by the Partner Center client, split by what the caller should do next."""

from __future__ import annotations

from typing import Any


class PartnerCenterError(Exception):
    """Base for every failure talking to Microsoft; carries what support needs to trace the call."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        description: str | None = None,
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.description = description
        self.request_id = request_id
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        if self.correlation_id:
            parts.append(f"correlation_id={self.correlation_id}")
        return " ".join(parts)


class TransientPartnerCenterError(PartnerCenterError):
    """Microsoft was unreachable, slow, throttling or failing: try again later with the same request id.

    `retry_after` is Microsoft's Retry-After in seconds, when it sent one: the earliest a task should retry.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PermanentPartnerCenterError(PartnerCenterError):
    """Microsoft refused the request or answered something we cannot read: retrying will not help."""


class NotFound(PermanentPartnerCenterError):
    """Microsoft answered 404 for a resource the caller expected to exist."""


class PartnerCenterAuthError(PermanentPartnerCenterError):
    """Sign-in to Microsoft Entra failed (bad secret, expired or revoked refresh token, missing consent)."""

    def __init__(
        self, message: str, *, error: str | None = None, error_description: str | None = None
    ) -> None:
        super().__init__(message, code=error, description=error_description)
        self.error = error
        self.error_description = error_description


class PartnerCenterNotConnected(PartnerCenterAuthError):
    """Live mode has no App+User sign-in (nobody connected, or the refresh token was revoked or aged out)."""
