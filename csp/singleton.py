"""One-row settings models, read on most pages: kept a few seconds in process memory so a page costs no query."""

import threading
import time
from typing import Any, Self

from django.db import models

LOAD_CACHE_SECONDS = 5.0
_lock = threading.Lock()
_loaded: dict[type, tuple[Any, float]] = {}


class SingletonModel(models.Model):
    """The row is always pk=1; `load()` creates it with `load_defaults()` the first time."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        forget_loaded_settings()

    @classmethod
    def load_defaults(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls) -> Self:
        now = time.monotonic()
        with _lock:
            cached = _loaded.get(cls)
        if cached and now - cached[1] < LOAD_CACHE_SECONDS:
            return cached[0]
        obj, _ = cls.objects.get_or_create(pk=1, defaults=cls.load_defaults())
        with _lock:
            _loaded[cls] = (obj, now)
        return obj


def forget_loaded_settings() -> None:
    """Drops the in-process copies (after a save here; other processes see a change within seconds)."""
    with _lock:
        _loaded.clear()
