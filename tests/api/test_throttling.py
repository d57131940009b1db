"""The lookup budget's counter: one Redis round trip per lookup, a window that opens with the first lookup."""

import pytest
import redis
from django.core.cache import cache

from storefront.api.throttling import lookup_budget_spend


@pytest.fixture
def redis_cache(settings):
    if not settings.REDIS_URL.startswith("redis"):
        pytest.skip("needs Redis: set REDIS_URL=redis://...")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup": "2/min"},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.mark.redis
def test_each_lookup_costs_one_round_trip_to_redis(redis_cache, monkeypatch):
    cache.get("connected")  # the connection's own handshake is not the lookup's cost
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(connection, command, check_health=True):
        sent.append(command)
        return original(connection, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    answers = [lookup_budget_spend(user_id=41) for _ in range(3)]
    assert len(sent) == 3
    assert answers[:2] == [None, None]
    assert 55 <= answers[2] <= 60
    assert lookup_budget_spend(user_id=42) is None  # per user


def test_without_redis_the_window_is_the_same(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup": "2/min"},
    }
    cache.clear()
    assert [lookup_budget_spend(user_id=41) is None for _ in range(3)] == [True, True, False]
    assert 55 <= lookup_budget_spend(user_id=41) <= 60
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup": None},
    }
    assert lookup_budget_spend(user_id=41) is None  # no rate set: no limit
