"""The storefront's own settings, plus a bare view at /bench/bare/ to compare the pages with (bench only)."""

from storefront.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
