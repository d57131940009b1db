"""Django admin for everything Microsoft CSP, one module per concern; importing them registers them."""

from csp.admin import authorizations, connect, gdap, orders  # noqa: F401
