import pytest
from django.core.cache import cache

from tests.pc_sandbox import sandbox, sandbox_server  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttling and lookups keep counters in the cache; each test starts clean."""
    cache.clear()
    yield
    cache.clear()


from tests.checkout.conftest import contoso, eager_worker, owner_draft, product  # noqa: E402, F401
