"""Rows read on most pages, kept a few seconds in process memory so a page costs no query.

- one-row settings models (`SingletonModel.load()`);
- `ShortLivedRows`: read-mostly rows looked up by key for display (catalog products by id, the reseller network by
  MPN ID). What is enforced on submit never reads them: Checkout and Place order query the database afresh.

A save or delete in this process forgets the copies at once; other processes see a change within seconds.
"""

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Self

from django.db import models

LOAD_CACHE_SECONDS = 5.0
_clock = time.monotonic
_lock = threading.Lock()
_loaded: dict[type, tuple[Any, float]] = {}
_row_caches: list["ShortLivedRows"] = []


class SingletonModel(models.Model):
    """The row is always pk=1; `load()` creates it with `load_defaults()` the first time."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        with _lock:
            _loaded.clear()

    @classmethod
    def load_defaults(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls) -> Self:
        now = _clock()
        with _lock:
            cached = _loaded.get(cls)
        if cached and now - cached[1] < LOAD_CACHE_SECONDS:
            return cached[0]
        obj, _ = cls.objects.get_or_create(pk=1, defaults=cls.load_defaults())
        with _lock:
            _loaded[cls] = (obj, now)
        return obj


class ShortLivedRows:
    """Rows by key, kept `seconds` in process memory; keys not found are asked again next time (never cached)."""

    def __init__(self, name: str, seconds: float = LOAD_CACHE_SECONDS) -> None:
        self.name = name
        self.seconds = seconds
        self._rows: dict[Hashable, tuple[Any, float]] = {}
        with _lock:
            _row_caches.append(self)

    def get_many(self, keys: Iterable[Hashable], load: Callable[[list], dict]) -> dict:
        """{key: row} for the keys that exist; `load(missing_keys)` reads the others in one go."""
        now = _clock()
        found: dict = {}
        missing = []
        with _lock:
            for key in keys:
                cached = self._rows.get(key)
                if cached is not None and now - cached[1] < self.seconds:
                    found[key] = cached[0]
                else:
                    missing.append(key)
        if missing:
            loaded = load(missing)
            with _lock:
                for key, row in loaded.items():
                    self._rows[key] = (row, now)
            found.update(loaded)
        return found

    def get(self, key: Hashable, load: Callable[[Hashable], Any]) -> Any:
        """The row for `key`, or None; `load(key)` returns the row or None."""

        def load_one(keys: list) -> dict:
            row = load(keys[0])
            return {} if row is None else {keys[0]: row}

        return self.get_many([key], load_one).get(key)

    def forget(self, *args, **kwargs) -> None:
        """Drops every copy (also usable as a post_save / post_delete receiver)."""
        with _lock:
            self._rows.clear()


def forget_loaded_settings() -> None:
    """Drops every in-process copy: settings rows and short-lived rows (tests start from their database)."""
    with _lock:
        _loaded.clear()
        caches = list(_row_caches)
    for rows in caches:
        rows.forget()
