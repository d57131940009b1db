"""The in-process copies and the shared Redis client against Django's cache framework (issue 14, item 4).

Run by `bench.figures` (so by `make bench`) against the bench database, in-process with Django's test client:
the same pages, signed in as the bench reseller, in turns of a few requests per variant so the machine's load
falls on every variant alike. Each variant replaces only how the one-row settings and the displayed rows are
kept, and which Redis cache backend serves `django.core.cache.cache`:

- `custom`: the code as it is (`csp/singleton.py` in-process copies, `storefront/cache.py`'s shared client);
- `locmem, shared client`: Django's `LocMemCache` keeps the copies for the same 5 seconds (what django-solo
  does with `SOLO_CACHE` naming a local-memory cache), `storefront/cache.py`'s Redis backend;
- `locmem`: the same copies, Django's own Redis backend;
- `redis`: the copies in the default Redis cache (django-solo with `SOLO_CACHE = "default"`), Django's own
  Redis backend.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from unittest import mock

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.test import Client
from django.urls import reverse

from csp import singleton

ROUNDS = 8
PER_TURN = 15
VARIANTS = ("custom", "locmem, shared client", "locmem", "redis")


def _library_copies(store) -> contextlib.ExitStack:
    """SingletonModel.load and ShortLivedRows.get_many through a Django cache, as a library would keep them."""

    def load(cls):
        key = f"singleton:{cls._meta.label_lower}"
        obj = store.get(key)
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1, defaults=cls.load_defaults())
            store.set(key, obj, singleton.LOAD_CACHE_SECONDS)
        return obj

    def get_many(self, keys, load_rows):
        keys = list(keys)
        names = {f"rows:{id(self)}:{key}": key for key in keys}
        found = {names[name]: row for name, row in store.get_many(list(names)).items()}
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = load_rows(missing)
            store.set_many({f"rows:{id(self)}:{key}": row for key, row in loaded.items()}, self.seconds)
            found.update(loaded)
        return found

    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(singleton.SingletonModel, "load", classmethod(load)))
    stack.enter_context(mock.patch.object(singleton.ShortLivedRows, "get_many", get_many))
    return stack


@contextlib.contextmanager
def _variant(name: str, backends: dict) -> Iterator[None]:
    previous = caches["default"]
    if name == "custom":
        yield
        return
    if name != "locmem, shared client":
        caches["default"] = backends["django redis"]
    store = backends["django redis"] if name == "redis" else backends["locmem"]
    try:
        with _library_copies(store):
            yield
    finally:
        caches["default"] = previous


def compare(client: Client, draft) -> dict[str, dict[str, float]]:
    """Milliseconds of this process's CPU per request, by page and variant (lower is better)."""
    backends = {
        "django redis": DjangoRedisCache(settings.REDIS_URL, {}),
        "locmem": LocMemCache("bench-copies", {}),
    }
    check = reverse("checkout:service_details_check")
    pages = {
        "Service Details page (GET)": lambda: client.get(reverse("checkout:service_details")),
        "domain check (prefix already checked)": lambda: client.post(
            check,
            {"domain_prefix": draft.domain_prefix, "mpn_id": "1234567", "check": "domain"},
            HTTP_HX_REQUEST="true",
        ),
        "MPN check": lambda: client.post(
            check, {"domain_prefix": "", "mpn_id": "1234567", "check": "mpn"}, HTTP_HX_REQUEST="true"
        ),
        "catalog": lambda: client.get(reverse("catalog")),
    }
    variants = VARIANTS
    spent = {page: dict.fromkeys(variants, 0.0) for page in pages}
    for page, request in pages.items():
        for variant in variants:  # warm each variant's caches
            with _variant(variant, backends):
                assert request().status_code == 200, (page, variant)
        for _ in range(ROUNDS):
            for variant in variants:
                with _variant(variant, backends):
                    started = time.process_time()
                    for _ in range(PER_TURN):
                        request()
                    spent[page][variant] += time.process_time() - started
    return {
        page: {variant: round(seconds * 1000 / (ROUNDS * PER_TURN), 2) for variant, seconds in row.items()}
        for page, row in spent.items()
    }
