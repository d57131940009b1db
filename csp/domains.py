"""The rules of an onmicrosoft.com domain prefix, before anything is asked of Microsoft."""

import re

from csp.errors import InvalidInput

DOMAIN_SUFFIX = ".onmicrosoft.com"
MAX_PREFIX_LENGTH = 27
PREFIX_PATTERN = re.compile(r"^[a-z0-9]{1,27}$")  # the one prefix rule, also the client's
PREFIX_RULE = "Use 1 to 27 letters (a-z) and digits (0-9) only: no spaces, dots, hyphens or accents."
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain_prefix(raw: str | None) -> str:
    """Lowercases the prefix (and drops a pasted `.onmicrosoft.com`), or says what is allowed."""
    value = (raw or "").strip().lower()
    if value.endswith(DOMAIN_SUFFIX):
        value = value[: -len(DOMAIN_SUFFIX)]
    if not value:
        raise InvalidInput("Enter a domain prefix. " + PREFIX_RULE, field="domain_prefix")
    if len(value) > MAX_PREFIX_LENGTH:
        raise InvalidInput(
            f"The domain prefix is {len(value)} characters long; the most is {MAX_PREFIX_LENGTH}. "
            + PREFIX_RULE,
            field="domain_prefix",
        )
    if not PREFIX_PATTERN.match(value):
        raise InvalidInput(PREFIX_RULE, field="domain_prefix")
    return value


def initial_domain(domain_prefix: str) -> str:
    return f"{domain_prefix}{DOMAIN_SUFFIX}"


def normalize_default_domain(raw: str | None) -> str:
    """A customer's default domain: `contoso.onmicrosoft.com` or a custom one such as `contoso.com`."""
    value = (raw or "").strip().lower().rstrip(".")
    if not value:
        raise InvalidInput(
            "Enter the customer's default domain, for example contoso.com.", field="default_domain"
        )
    if "@" in value or "/" in value or not _DOMAIN.match(value):
        raise InvalidInput(
            "Enter a domain name such as contoso.com or contoso.onmicrosoft.com, without https:// or an email "
            "address.",
            field="default_domain",
        )
    return value


def normalize_mpn_id(raw: str | None) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("Enter your MPN ID (Microsoft Partner ID), digits only.", field="mpn_id")
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise InvalidInput("The MPN ID must contain digits only (for example 1234567).", field="mpn_id")
    return value
