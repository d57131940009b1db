"""Rows read on most pages, kept a few seconds in each process by Django's cache framework, so a page costs no
query for them:

- one-row settings models (`SingletonModel.load()`);
- `ShortLivedRows`: read-mostly rows looked up by key for display (catalog products by id, the reseller network by
  MPN ID). What is enforced on submit never reads them: Checkout and Place order query the database afresh.

The copies live in a Django LocMemCache of their own (in process memory, never shared through Redis, and not in
settings.CACHES, so tests and deployments that change the caches keep it). A save or delete in this process
forgets them at once; other processes see a change within seconds.
"""

from collections.abc import Callable, Hashable, Iterable
from typing import Any, Self

from django.core.cache.backends.locmem import LocMemCache
from django.db import models

COPY_SECONDS = 5
_COPIES = LocMemCache("in-process-copies", {})


def _copies() -> LocMemCache:
    return _COPIES


class SingletonModel(models.Model):
    """The row is always pk=1; `load()` creates it with `load_defaults()` the first time."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        _copies().delete(self._copy_key())

    @classmethod
    def _copy_key(cls) -> str:
        return f"singleton:{cls._meta.label_lower}"

    @classmethod
    def load_defaults(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls) -> Self:
        obj = _copies().get(cls._copy_key())
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1, defaults=cls.load_defaults())
            _copies().set(cls._copy_key(), obj, COPY_SECONDS)
        return obj


class ShortLivedRows:
    """Rows by key, kept `seconds` in the in-process copies; keys not found are asked again next time (never cached)."""

    def __init__(self, name: str, seconds: float | None = None) -> None:
        self.name = name
        self.seconds = seconds
        self._prefix = "rows:" + "-".join(name.split())

    def _name(self, key: Hashable) -> str:
        """A cache key without spaces, so the copies could live in any cache backend (memcached refuses spaces)."""
        parts = key if isinstance(key, tuple) else (key,)
        return ":".join([self._prefix, *(str(part) for part in parts)])

    def get_many(self, keys: Iterable[Hashable], load: Callable[[list], dict]) -> dict:
        """{key: row} for the keys that exist; `load(missing_keys)` reads the others in one go."""
        copies = _copies()
        names = {self._name(key): key for key in keys}
        found = {names[name]: row for name, row in copies.get_many(list(names)).items()}
        missing = [key for key in names.values() if key not in found]
        if missing:
            loaded = load(missing)
            seconds = COPY_SECONDS if self.seconds is None else self.seconds
            copies.set_many({self._name(key): row for key, row in loaded.items()}, seconds)
            found.update(loaded)
        return found

    def get(self, key: Hashable, load: Callable[[Hashable], Any]) -> Any:
        """The row for `key`, or None; `load(key)` returns the row or None."""

        def load_one(keys: list) -> dict:
            row = load(keys[0])
            return {} if row is None else {keys[0]: row}

        return self.get_many([key], load_one).get(key)

    def forget(self, *args, **kwargs) -> None:
        """Drops every copy in this process (also usable as a post_save / post_delete receiver)."""
        _copies().clear()


def forget_loaded_settings() -> None:
    """Drops every copy: settings rows and short-lived rows (tests start from their database)."""
    _copies().clear()
