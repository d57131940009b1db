"""Domain prefixes (`<prefix>.onmicrosoft.com`) and default domains: their rules, then whether Microsoft has the
prefix already (the taken messages are the seed's, word for word)."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from common.errors import InvalidInput
from csp.calls import microsoft_call
from csp.connection import partner_center
from csp.partner_center.schemas import MAX_PREFIX_LENGTH, PREFIX_PATTERN

DOMAIN_SUFFIX = ".onmicrosoft.com"
PREFIX_RULE = "Use 1 to 27 letters (a-z) and digits (0-9) only: no spaces, dots, hyphens or accents."
DOMAIN_CHECK_CACHE_SECONDS = 30
TAKEN_MESSAGE_RESELLER = (
    "The domain {domain} is already registered in Microsoft Portal by another tenant. If it belongs to your "
    'customer, tick "My customer is already using Office 365 service and he/she owns this domain" and follow '
    "the authorization process; otherwise choose another domain and retry."
)
TAKEN_MESSAGE_DIRECT = (
    "The domain {domain} is already registered in Microsoft Portal by another tenant. If it is yours, tick "
    '"I am already using Office 365 service and I own this domain" and follow the authorization process; '
    "otherwise choose another domain and retry."
)
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


@dataclass(frozen=True)
class DomainCheck:
    domain_prefix: str
    domain: str
    available: bool
    tenant_id: str | None
    message: str


def domain_prefix_check(*, domain_prefix: str, for_reseller: bool = True, fresh: bool = False) -> DomainCheck:
    """Asks Microsoft whether `<prefix>.onmicrosoft.com` is free (Partner Center domain check or sign-in discovery)."""
    prefix = normalize_domain_prefix(domain_prefix)
    domain = initial_domain(prefix)
    key = f"csp:domain-check:{settings.PARTNER_CENTER_MODE}:{prefix}"
    answer = None if fresh else cache.get(key)
    if answer is None:
        availability = microsoft_call("check the domain", partner_center().domain_availability, prefix)
        answer = (availability.available, availability.tenant_id)
        cache.set(key, answer, DOMAIN_CHECK_CACHE_SECONDS)
    available, tenant_id = answer
    if available:
        message = f"{domain} is available."
    else:
        message = (TAKEN_MESSAGE_RESELLER if for_reseller else TAKEN_MESSAGE_DIRECT).format(domain=domain)
    return DomainCheck(prefix, domain, available, tenant_id, message)
