"""Partner Center's token cache, kept in the database and encrypted at rest, so rolled refresh tokens survive
restarts and a database dump reveals none."""

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils import timezone

from csp.models import PartnerCenterConnection, TokenCache

logger = logging.getLogger(__name__)


def token_cache_fernet() -> Fernet | None:
    """The key from the environment; the sandbox (a demo) falls back to one derived from SECRET_KEY."""
    key = settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY
    if key:
        return Fernet(key.encode())
    if settings.PARTNER_CENTER_MODE == "sandbox":
        derived = hashlib.sha256(b"partner-center-token-cache:" + settings.SECRET_KEY.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(derived))
    return None


class EncryptedTokenCacheStore:
    """Keeps the token cache in the TokenCache table, Fernet-encrypted, so rolled refresh tokens survive
    restarts; each save (Microsoft rolled the refresh token) is recorded as the connection's last refresh."""

    name = "partner_center"

    def load(self) -> str | None:
        row = TokenCache.objects.filter(name=self.name).only("data").first()
        fernet = token_cache_fernet()
        if not row or not row.data or fernet is None:
            return None
        try:
            return fernet.decrypt(row.data.encode()).decode()
        except InvalidToken:
            logger.error("The stored Partner Center token cache cannot be decrypted with the configured key")
            return None

    def save(self, data: str) -> None:
        fernet = token_cache_fernet()
        if fernet is None:  # live mode without a key: an environment refresh token works, nothing is stored
            return
        TokenCache.objects.update_or_create(
            name=self.name, defaults={"data": fernet.encrypt(data.encode()).decode()}
        )
        PartnerCenterConnection.objects.filter(pk=1, connected_at__isnull=False).update(
            last_refreshed_at=timezone.now()
        )
