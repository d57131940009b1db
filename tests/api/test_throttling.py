"""The lookup budget is DRF's user throttle, spent by the API's lookups and the checkout's checks alike."""

import pytest
import redis
from django.core.cache import cache
from django.test import RequestFactory

from storefront.api.throttling import LookupRateThrottle, lookup_budget_spend
from tests.factories import UserFactory
from tests.shared import lookup_rate

pytestmark = pytest.mark.django_db


def _request_by(user):
    request = RequestFactory().post("/checkout/service-details/check/")
    request.user = user
    return request


@pytest.fixture
def redis_cache(settings):
    if not settings.REDIS_URL.startswith("redis"):
        pytest.skip("needs Redis: set REDIS_URL=redis://...")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    lookup_rate(settings, "2/min")
    cache.clear()
    yield
    cache.clear()


@pytest.mark.redis
def test_each_lookup_costs_two_round_trips_to_redis(redis_cache, monkeypatch):
    cache.get("connected")  # the connection's own handshake is not the lookup's cost
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(connection, command, check_health=True):
        sent.append(command)
        return original(connection, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    buyer, other = UserFactory(), UserFactory()
    answers = [lookup_budget_spend(request=_request_by(buyer)) for _ in range(3)]
    assert len(sent) == 5  # a read and a write for each allowed lookup, a read for the refused one
    assert answers[:2] == [None, None]
    assert 55 <= answers[2] <= 60
    assert lookup_budget_spend(request=_request_by(other)) is None  # per user


def test_the_window_slides_and_no_rate_means_no_limit(settings, monkeypatch):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    lookup_rate(settings, "2/min")
    cache.clear()
    buyer = UserFactory()
    now = [1_000_000.0]
    monkeypatch.setattr(LookupRateThrottle, "timer", lambda self: now[0])
    assert [lookup_budget_spend(request=_request_by(buyer)) for _ in range(3)] == [None, None, 60]
    now[0] += 30
    assert lookup_budget_spend(request=_request_by(buyer)) == 30
    now[0] += 31  # the first two lookups are more than a minute old
    assert lookup_budget_spend(request=_request_by(buyer)) is None
    lookup_rate(settings, None)
    assert lookup_budget_spend(request=_request_by(buyer)) is None
