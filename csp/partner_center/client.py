"""The one place that speaks HTTP to Microsoft Partner Center, Entra sign-in discovery and Graph (GDAP)."""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import threading
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import requests
from cryptography import x509
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError, TimeoutError
from urllib3.util.retry import Retry

from common.ids import GUID

from .auth import TokenCacheStore, TokenProvider, token_provider_for
from .deadline import MIN_ATTEMPT_SECONDS, attempt_timeout
from .deadline import deadline as page_deadline
from .exceptions import (
    NotFound,
    PartnerCenterError,
    PermanentPartnerCenterError,
    TransientPartnerCenterError,
)
from .schemas import (
    ADMIN_PORTAL_URL,
    PREFIX_PATTERN,
    Address,
    AddressValidation,
    AgreementContact,
    AgreementStatus,
    Availability,
    AvailabilityTerm,
    CallRecord,
    Cart,
    CartLine,
    CartLineError,
    CatalogSku,
    CheckoutResult,
    CreatedCustomer,
    Customer,
    CustomerPage,
    DomainAvailability,
    GdapAccessAssignment,
    GdapRelationship,
    IndirectReseller,
    NewCustomer,
    OrderError,
    PageLink,
    PartnerCenterConfig,
    PartnerOrder,
    PartnerOrderLine,
    PartnerRelationship,
    RelationshipRequestLink,
    WebhookRegistration,
)
from .webhooks import certificate_check, certificate_url_prefix, webhook_rejection

__all__ = [
    "GLOBAL_ADMINISTRATOR_ROLE_ID",
    "PartnerCenterClient",
    "PartnerCenterConfig",
    "one_attempt_per_call",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
Recorder = Callable[[CallRecord], None]
RequestHook = Callable[[str, str], None]

GLOBAL_ADMINISTRATOR_ROLE_ID = "62e90394-69f5-4237-9190-012177145e10"
MAX_PAGES = 1000
MAX_CACHED_CERTIFICATES = 32
MAX_CERTIFICATE_BYTES = 64 * 1024
UNKNOWN_TENANT_CODES = {90002, 900023}
# Microsoft's 400 codes that mean "not signed" (verify-indirect-reseller-mpa-status), in an admin's words.
AGREEMENT_NOT_SIGNED_MESSAGES = {
    "2201": "The reseller's Partner Center account is in another CSP region than the one we order in.",
    "2203": "The reseller has a Partner Center account but has not signed the Microsoft Partner Agreement "
    "for this CSP region.",
    "2204": "This MPN ID has no CSP indirect reseller enrollment.",
    "2206": "The reseller's Partner Center account has not signed the Microsoft Partner Agreement.",
}
CONTRACT_VERSION = "v1"
NO_COMMERCE_RELATIONSHIP_CODE = "20002"
LEGACY_ADDRESS_INVALID_CODE = "2007"
NOT_RETRIED_SERVER_STATUSES = {501, 505}
RETRIED_STATUSES = frozenset({429} | set(range(500, 600)) - NOT_RETRIED_SERVER_STATUSES)
MAX_PRICE_FILE_BYTES = 200 * 1024 * 1024  # a real US price list is ~2 MB; anything this big is not one


class _BadPayload(ValueError):
    """Microsoft answered, but not with what its contract promises."""


def _require(mapping: Any, key: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise _BadPayload(f"expected a JSON object holding {key!r}")
    value = mapping.get(key)
    if value is None or value == "":
        raise _BadPayload(f"missing field {key!r}")
    return value


def _text(mapping: Any, key: str) -> str:
    value = _require(mapping, key)
    if isinstance(value, (dict, list, bool)):
        raise _BadPayload(f"field {key!r} is not text")
    return str(value)


def _optional_text(mapping: Any, key: str) -> str | None:
    if not isinstance(mapping, Mapping):
        return None
    value = mapping.get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _items(body: Any) -> list[Any]:
    if body is None:
        return []
    if not isinstance(body, Mapping):
        raise _BadPayload("expected a JSON collection object")
    items = body.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise _BadPayload("'items' is not a list")
    return items


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    if not isinstance(value, str):
        raise _BadPayload("date is not text")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _BadPayload(f"unreadable date {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_code(value: Any) -> int | str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _address_from(data: Any) -> Address:
    if not isinstance(data, Mapping):
        raise _BadPayload("address is not an object")
    return Address(
        country=_optional_text(data, "country") or "",
        city=_optional_text(data, "city") or "",
        state=_optional_text(data, "state"),
        address_line1=_optional_text(data, "addressLine1") or "",
        address_line2=_optional_text(data, "addressLine2"),
        postal_code=_optional_text(data, "postalCode"),
        region=_optional_text(data, "region"),
    )


def _customer_from(item: Any) -> Customer:
    profile = _require(item, "companyProfile")
    tenant_id = _optional_text(item, "id") or _text(profile, "tenantId")
    return Customer(
        tenant_id=tenant_id,
        domain=_text(profile, "domain"),
        company_name=_optional_text(profile, "companyName") or "",
        relationship_to_partner=_optional_text(item, "relationshipToPartner"),
        associated_partner_id=_optional_text(item, "associatedPartnerId"),
    )


def _order_from(item: Any) -> PartnerOrder:
    lines = item.get("lineItems") if isinstance(item, Mapping) else None
    if lines is not None and not isinstance(lines, list):
        raise _BadPayload("'lineItems' is not a list")
    return PartnerOrder(
        id=_text(item, "id"),
        status=_optional_text(item, "status"),
        line_items=tuple(_order_line_from(line) for line in lines or () if isinstance(line, Mapping)),
    )


def _order_line_from(line: Mapping[str, Any]) -> PartnerOrderLine:
    quantity = line.get("quantity")
    return PartnerOrderLine(
        offer_id=_optional_text(line, "offerId"),
        subscription_id=_optional_text(line, "subscriptionId"),
        quantity=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
        partner_id_on_record=_optional_text(line, "partnerIdOnRecord"),
    )


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _catalog_sku_from(item: Any) -> CatalogSku:
    attestation = item.get("attestationProperties") if isinstance(item, Mapping) else None
    cycles = item.get("supportedBillingCycles") or []
    return CatalogSku(
        id=_text(item, "id"),
        product_id=str(item.get("productId") or ""),
        title=str(item.get("title") or ""),
        description=str(item.get("description") or ""),
        minimum_quantity=_int_or_none(item.get("minimumQuantity")),
        maximum_quantity=_int_or_none(item.get("maximumQuantity")),
        is_trial=bool(item.get("isTrial")),
        supported_billing_cycles=tuple(str(c).lower() for c in cycles if isinstance(c, str)),
        enforce_attestation=bool(isinstance(attestation, Mapping) and attestation.get("enforceAttestation")),
    )


def _availability_from(item: Any) -> Availability:
    terms = item.get("terms") or []
    if not isinstance(terms, list):
        raise _BadPayload("'terms' is not a list")
    currency = item.get("defaultCurrency")
    catalog_item_id = _text(item, "catalogItemId")
    product_id, _, rest = catalog_item_id.partition(":")
    sku_id = rest.partition(":")[0]
    return Availability(
        id=_text(item, "id"),
        product_id=str(item.get("productId") or product_id),
        sku_id=str(item.get("skuId") or sku_id),
        catalog_item_id=catalog_item_id,
        segment=_optional_text(item, "segment"),
        country=_optional_text(item, "country"),
        currency=_optional_text(currency, "code") if isinstance(currency, Mapping) else None,
        is_purchasable=item.get("isPurchasable", True) is not False,
        terms=tuple(
            AvailabilityTerm(
                duration=_text(term, "duration"),
                billing_cycle=_text(term, "billingCycle"),
                description=_optional_text(term, "description"),
            )
            for term in terms
        ),
    )


def _cart_line_errors(payload: Any) -> tuple[CartLineError, ...]:
    """Per-line errors of a cart (seat caps, withdrawn offers), which Microsoft returns inside a 201."""
    errors = []
    for line in payload.get("lineItems") or [] if isinstance(payload, Mapping) else []:
        error = line.get("error") if isinstance(line, Mapping) else None
        if not isinstance(error, Mapping):
            continue
        errors.append(
            CartLineError(
                line_id=_int_or_none(line.get("id")),
                code=_error_code(error.get("errorCode") or error.get("code")),
                description=_optional_text(error, "errorDescription") or _optional_text(error, "description"),
                available_quantity=_int_or_none(error.get("availableQuantity")),
            )
        )
    return tuple(errors)


def _file_from(response: requests.Response) -> bytes:
    """The CSV a sales endpoint returned, unzipped when Microsoft sent the zip it sends for deflate."""
    body = response.content
    if not body.startswith(b"PK"):
        return body
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = [
                m for m in archive.infolist() if m.filename.lower().endswith(".csv")
            ] or archive.infolist()
            if not members:
                raise _BadPayload("the zip holds no file")
            if members[0].file_size > MAX_PRICE_FILE_BYTES:
                raise _BadPayload("the zipped file is too large to be a price list")
            return archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise _BadPayload("the zip body is damaged") from exc


def _gdap_from(body: Any) -> GdapRelationship:
    return GdapRelationship(
        id=_text(body, "id"),
        status=_text(body, "status"),
        etag=_optional_text(body, "@odata.etag"),
        end_date_time=_datetime(body.get("endDateTime")),
        display_name=_optional_text(body, "displayName"),
    )


def _graph_values(body: Any) -> list[Any]:
    """A Graph collection's `value` list."""
    if not isinstance(body, Mapping) or not isinstance(body.get("value"), list):
        raise _BadPayload("expected a Graph collection with a 'value' list")
    return body["value"]


def _assignment_from(body: Any) -> GdapAccessAssignment:
    container = body.get("accessContainer") if isinstance(body, Mapping) else None
    details = body.get("accessDetails") if isinstance(body, Mapping) else None
    roles = details.get("unifiedRoles") if isinstance(details, Mapping) else None
    return GdapAccessAssignment(
        id=_text(body, "id"),
        status=_text(body, "status"),
        security_group_id=_optional_text(container, "accessContainerId"),
        role_definition_ids=tuple(
            str(role["roleDefinitionId"]).lower()
            for role in roles or []
            if isinstance(role, Mapping) and role.get("roleDefinitionId")
        ),
    )


def _odata_string(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _utc_iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class MicrosoftRetry(Retry):
    """urllib3's Retry with the .NET SDK's backoff, an injectable sleep (tests) and a hook per retry (call counts).

    urllib3 re-sends the very same request, so every attempt of one logical call carries the same MS-RequestId.
    """

    def __init__(
        self,
        *args: Any,
        sleeper: Callable[[float], None] | None = None,
        on_retry: Callable[[str, str], None] | None = None,
        max_wait: float | None = None,
        attempt_timeout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sleeper = sleeper if sleeper is not None else time.sleep
        self.on_retry = on_retry
        self.max_wait = max_wait
        self.attempt_timeout = attempt_timeout
        self.waited = 0.0

    def new(self, **kw: Any) -> MicrosoftRetry:
        retry = super().new(**kw)
        retry.sleeper, retry.on_retry = self.sleeper, self.on_retry
        retry.max_wait, retry.waited, retry.attempt_timeout = self.max_wait, self.waited, self.attempt_timeout
        return retry

    def _delay(self, response: Any) -> float:
        delay = self.get_retry_after(response) if response is not None else None
        return self.get_backoff_time() if delay is None else delay

    def get_backoff_time(self) -> float:
        """(2^n - 1) x factor: 0.5 s, 1.5 s, 3.5 s with the default factor, as Microsoft's SDK waits."""
        attempts = len(self.history)
        return float(min(self.backoff_max, self.backoff_factor * (2**attempts - 1))) if attempts else 0.0

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except Exception:  # an unreadable Retry-After falls back to the backoff
            return None

    def sleep(self, response: Any = None) -> None:
        self.sleeper(self._delay(response))

    def increment(
        self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any
    ) -> Retry:
        retry = super().increment(method, url, *args, **kwargs)
        if retry.max_wait is not None:
            # The wait before the next attempt (and an attempt that timed out) must fit in what is left of
            # `max_wait`; otherwise the caller gets Microsoft's answer now (a 429 keeps its Retry-After) instead of a
            # page blocked for minutes by Retry-After or by a slow Microsoft.
            error = kwargs.get("error")
            if isinstance(error, TimeoutError):
                retry.waited += retry.attempt_timeout
            delay = retry._delay(kwargs.get("response"))
            if retry.waited + delay > retry.max_wait:
                reason = error or ResponseError(
                    f"Microsoft asked to wait {delay:.0f} s, longer than a page waits"
                )
                raise MaxRetryError(kwargs.get("_pool"), url or "", reason)
            retry.waited += delay
        until = page_deadline()
        if (
            until is not None
            and time.monotonic() + retry._delay(kwargs.get("response")) + MIN_ATTEMPT_SECONDS > until
        ):
            # Inside a page, no retry whose wait would leave no time for its attempt.
            raise MaxRetryError(
                kwargs.get("_pool"), url or "", kwargs.get("error") or ResponseError("page time spent")
            )
        if self.on_retry is not None:
            self.on_retry(method or "", url or "")
        return retry


def retry_policy(
    config: PartnerCenterConfig,
    *,
    sleeper: Callable[[float], None] | None = None,
    on_retry: Callable[[str, str], None] | None = None,
) -> MicrosoftRetry:
    """The transient-retry policy for someone waiting: network errors, 429 (Retry-After, capped) and 5xx."""
    return MicrosoftRetry(
        total=config.max_retries,
        connect=config.max_retries,
        read=config.max_retries,
        status=config.max_retries,
        other=0,
        redirect=0,
        allowed_methods=None,
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=config.backoff,
        backoff_max=config.max_retry_after,
        respect_retry_after_header=True,
        retry_after_max=int(config.max_retry_after),
        raise_on_status=False,
        raise_on_redirect=False,
        sleeper=sleeper,
        on_retry=on_retry,
        max_wait=config.max_wait,
        attempt_timeout=config.timeout,
    )


# The one retry policy per kind of caller:
# - someone waiting on a page (a buyer, an admin, Microsoft delivering a webhook) gets urllib3's short bounded
#   retries inside the call (`retry_policy`);
# - work with its own schedule (a Celery task, a beat pass) runs inside `one_attempt_per_call`: each call is sent
#   once and a transient error reaches the task at once, whose retry or next run is the retry (a 429's Retry-After
#   travels on the error). Retries are never multiplied: a run is one attempt per logical call.
_one_attempt: ContextVar[bool] = ContextVar("partner_center_one_attempt", default=False)


@contextmanager
def one_attempt_per_call() -> Iterator[None]:
    """Inside it, every Partner Center call is sent once: for work whose schedule retries it."""
    token = _one_attempt.set(True)
    try:
        yield
    finally:
        _one_attempt.reset(token)


class CallerRetryAdapter(HTTPAdapter):
    """Mounted on the session: `retry_policy` for someone waiting, no retry inside `one_attempt_per_call`."""

    def __init__(self, retry: Retry) -> None:
        self._single = retry.new(total=0, connect=0, read=0, status=0)
        super().__init__(max_retries=retry)

    @property  # type: ignore[override]
    def max_retries(self) -> Retry:
        return self._single if _one_attempt.get() else self._retry

    @max_retries.setter
    def max_retries(self, retry: Retry) -> None:
        self._retry = retry


def microsoft_session(retry: Retry | None = None) -> requests.Session:
    """A session for Microsoft's hosts. Without proxy variables in the environment it stops re-reading the
    environment on every request (a measurable cost per call), keeping the one setting that matters here: the CA
    bundle named by REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE). With a proxy configured, requests' own handling stays."""
    session = requests.Session()
    if not any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES):
        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    if retry is not None:
        _mount(session, retry)
    return session


def _mount(session: requests.Session, retry: Retry) -> None:
    adapter = CallerRetryAdapter(retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


class PartnerCenterClient:
    """Typed operations on Partner Center and Graph, with Microsoft's headers, bounded retries, typed errors.

    Transient retries are urllib3's (`retry_policy`, mounted on the session), except inside
    `one_attempt_per_call`: the same MS-RequestId across attempts of one logical call, the SDK's backoff on
    network errors and 5xx, Retry-After (capped) on 429. Our own code keeps one thing: a single token refresh on 401.
    """

    def __init__(
        self,
        config: PartnerCenterConfig,
        *,
        token_provider: TokenProvider | None = None,
        recorder: Recorder | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: RequestHook | None = None,
        token_cache_store: TokenCacheStore | None = None,
    ) -> None:
        self.config = config
        policy = self.retry_policy = retry_policy(config, sleeper=sleep, on_retry=self._count)
        if session is None:
            session = microsoft_session(policy)
        else:
            _mount(session, policy)
        self._session = session
        self._tokens: TokenProvider = token_provider or token_provider_for(
            config, cache_store=token_cache_store, session=self._session
        )
        self._recorder = recorder
        self._on_request = on_request
        self._certificates: dict[str, x509.Certificate] = {}
        self._certificates_lock = threading.Lock()
        self._roots: list[x509.Certificate] | None = None
        self.call_count = 0
        self.calls: deque[tuple[str, str]] = deque(maxlen=1000)
        self._side: ThreadPoolExecutor | None = None
        self._side_lock = threading.Lock()
        self._count_lock = threading.Lock()

    @property
    def token_provider(self) -> TokenProvider:
        """Sign-in, for connecting from admin and the health check's token probes."""
        return self._tokens

    # -- plumbing ------------------------------------------------------------------------------------------

    def _side_pool(self) -> ThreadPoolExecutor:
        """A few threads for calls made alongside another one (created on first use, so after a worker forks)."""
        with self._side_lock:
            if self._side is None:
                self._side = ThreadPoolExecutor(max_workers=4, thread_name_prefix="partner-center-side")
            return self._side

    def _api(self, path: str) -> str:
        return f"{self.config.api_url}/v1/{path.lstrip('/')}"

    def _sales(self, path: str) -> str:
        return f"{self.config.sales_api_url}/v1.0/sales/{path.lstrip('/')}"

    def _graph(self, path: str) -> str:
        return f"{self.config.graph_url}/v1.0/{path.lstrip('/')}"

    def _headers(
        self,
        resource: str | None,
        request_id: str,
        correlation_id: str,
        extra: Mapping[str, str] | None,
        has_body: bool,
    ) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "MS-RequestId": request_id,
            "MS-CorrelationId": correlation_id,
            "X-Locale": "en-US",
            "MS-PartnerCenter-Application": self.config.application_name,
            "MS-Contract-Version": CONTRACT_VERSION,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if resource:
            headers["Authorization"] = f"Bearer {self._tokens.token(resource)}"
        if extra:
            headers.update(extra)
        return headers

    def _count(self, method: str, url: str) -> None:
        path = urlsplit(url).path
        with self._count_lock:  # calls can be made from two threads at once (domain_availability)
            self.call_count += 1
            self.calls.append((method, path))
        if self._on_request is not None:
            self._on_request(method, path)

    def _send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        resource: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
        extra_headers: Mapping[str, str] | None,
        request_id: str,
        correlation_id: str,
        ok: Iterable[int] | None,
    ) -> requests.Response:
        """Send one logical call (urllib3 retries the transient failures); returns an acceptable response."""
        accepted = set(ok) if ok is not None else None
        refreshed_token = False
        partner_center = url.startswith(f"{self.config.api_url}/")
        while True:
            headers = self._headers(resource, request_id, correlation_id, extra_headers, body is not None)
            if not partner_center:
                headers.pop("MS-Contract-Version")
            self._page_time_require(operation, request_id, correlation_id)
            self._count(method, url)
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=attempt_timeout(self.config.timeout),  # urllib3's retries: each only what is left
                    allow_redirects=False,
                )
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                timed_out = isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower()
                logger.warning(
                    "partner_center %s %s %s failed after retries: %s (request_id=%s)",
                    operation, method, urlsplit(url).path, type(exc).__name__, request_id,
                )  # fmt: skip
                raise TransientPartnerCenterError(
                    f"Microsoft {'timed out' if timed_out else 'could not connect'} during {operation}",
                    request_id=request_id,
                    correlation_id=correlation_id,
                ) from exc
            except requests.RequestException as exc:
                raise PermanentPartnerCenterError(
                    f"request for {operation} could not be sent: {type(exc).__name__}",
                    request_id=request_id,
                    correlation_id=correlation_id,
                ) from exc
            status = response.status_code
            logger.info(
                "partner_center %s %s %s -> %s in %dms (request_id=%s correlation_id=%s ms_cv=%s)",
                operation, method, urlsplit(url).path, status, (time.monotonic() - started) * 1000,
                request_id, correlation_id, response.headers.get("MS-CV"),
            )  # fmt: skip
            if (accepted is None and 200 <= status < 300) or (accepted is not None and status in accepted):
                return response
            if status == 401 and resource and not refreshed_token:
                self._tokens.invalidate(resource)
                refreshed_token = True
                continue
            raise self._error_from_response(response, operation)

    def _page_time_require(self, operation: str, request_id: str, correlation_id: str) -> None:
        """Inside `answer_within`, nothing is sent once the page's time is spent (`attempt_timeout` bounds each
        attempt by what is left)."""
        until = page_deadline()
        if until is not None and until - time.monotonic() < MIN_ATTEMPT_SECONDS:
            raise TransientPartnerCenterError(
                f"Microsoft did not answer in the time a page waits, before {operation}",
                request_id=request_id,
                correlation_id=correlation_id,
            )

    def _error_from_response(self, response: requests.Response, operation: str) -> PartnerCenterError:
        """Map an unwanted answer to a typed error, reading Microsoft's error bodies without trusting them."""
        status = response.status_code
        code: int | str | None = None
        description: str | None = None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
            content_type = response.headers.get("Content-Type", "")
            kind = "an HTML page" if "html" in content_type.lower() else "a body that is not JSON"
            description = f"HTTP {status} with {kind}"
        if isinstance(body, Mapping):
            nested = body.get("error")
            if isinstance(nested, Mapping):
                code = _error_code(nested.get("code"))
                description = _optional_text(nested, "message")
            elif "code" in body or "description" in body:
                code = _error_code(body.get("code"))
                description = _optional_text(body, "description")
            elif "statusCode" in body or "message" in body:
                code = _error_code(body.get("statusCode"))
                description = _optional_text(body, "message")
            elif isinstance(nested, str):
                code = nested
                description = _optional_text(body, "error_description")
        request_id, correlation_id = self._ids_of(response)
        message = f"Microsoft answered HTTP {status} to {operation}"
        if description:
            message = f"{message}: {description[:300]}"
        details: dict[str, Any] = {
            "status": status,
            "code": code,
            "description": description,
            "request_id": request_id,
            "correlation_id": correlation_id,
        }
        if status == 429 or status >= 500:
            return TransientPartnerCenterError(message, retry_after=self._retry_after(response), **details)
        if status == 404:
            return NotFound(message, **details)
        return PermanentPartnerCenterError(message, **details)

    def _retry_after(self, response: requests.Response) -> float | None:
        """Microsoft's Retry-After in seconds (a number or an HTTP date), None when absent or unreadable."""
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(
                0.0, float(Retry(0).parse_retry_after(value))
            )  # uncapped: the page policy caps its own
        except Exception:  # urllib3 raises InvalidHeader on an unreadable value
            return None

    @staticmethod
    def _ids_of(response: requests.Response) -> tuple[str | None, str | None]:
        sent = response.request.headers if response.request is not None else {}
        return (
            sent.get("MS-RequestId") or response.headers.get("MS-RequestId"),
            sent.get("MS-CorrelationId") or response.headers.get("MS-CorrelationId"),
        )

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if not response.content or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise _BadPayload("the body is not JSON") from exc

    def _call(
        self,
        method: str,
        url: str,
        parse: Callable[[requests.Response], T],
        *,
        operation: str,
        resource: str | None = "partner_center",
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        ok: Iterable[int] | None = None,
        record: bool = False,
        ids: Mapping[str, str] | None = None,
        result_ids: Callable[[T], Mapping[str, str]] | None = None,
    ) -> T:
        """One logical call: send, parse into typed values, and hand changes to the recorder."""
        request_id = request_id or str(uuid.uuid4())
        correlation_id = str(uuid.uuid4())
        started = time.monotonic()
        status: int | None = None
        error: PartnerCenterError | None = None
        record_ids = dict(ids or {})
        try:
            response = self._send(
                method,
                url,
                operation=operation,
                resource=resource,
                params=params,
                body=body,
                extra_headers=headers,
                request_id=request_id,
                correlation_id=correlation_id,
                ok=ok,
            )
            status = response.status_code
            try:
                result = parse(response)
            except PartnerCenterError:
                raise
            except (_BadPayload, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise PermanentPartnerCenterError(
                    f"unexpected answer from Microsoft to {operation}: {exc}",
                    status=status,
                    request_id=request_id,
                    correlation_id=correlation_id,
                ) from exc
            if result_ids is not None:
                record_ids.update(result_ids(result))
            return result
        except PartnerCenterError as exc:
            error = exc
            status = exc.status if exc.status is not None else status
            raise
        finally:
            if record:
                self._record(
                    CallRecord(
                        operation=operation,
                        method=method,
                        path=urlsplit(url).path,
                        request_id=request_id,
                        correlation_id=correlation_id,
                        status=status,
                        duration_ms=int((time.monotonic() - started) * 1000),
                        error_code=error.code if error else None,
                        error_description=error.description or error.message if error else None,
                        ids=record_ids,
                    )
                )

    def _record(self, record: CallRecord) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder(record)
        except Exception:
            # The audit trail must never turn a change Microsoft already made into a failure.
            logger.exception("partner_center recorder failed for %s %s", record.operation, record.request_id)

    def _page_url(self, uri: str) -> str:
        """Resolve a `links.next` uri on the Partner Center base; other hosts would receive our token."""
        parts = urlsplit(uri)
        if parts.scheme or parts.netloc:
            base = urlsplit(self.config.api_url)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise _BadPayload("next link points to another host")
            return uri
        if uri.startswith("/v1/"):
            return f"{self.config.api_url}{uri}"
        return self._api(uri)

    @staticmethod
    def _next_link(body: Any) -> PageLink | None:
        links = body.get("links") if isinstance(body, Mapping) else None
        nxt = links.get("next") if isinstance(links, Mapping) else None
        if not isinstance(nxt, Mapping) or not nxt.get("uri"):
            return None
        headers = []
        for header in nxt.get("headers") or []:
            if isinstance(header, Mapping) and header.get("key"):
                headers.append((str(header["key"]), str(header.get("value") or "")))
        return PageLink(
            uri=str(nxt["uri"]), method=str(nxt.get("method") or "GET").upper(), headers=tuple(headers)
        )

    def _follow(self, link: PageLink, parse: Callable[[requests.Response], T], *, operation: str) -> T:
        if link.method not in ("GET", "POST"):
            raise PermanentPartnerCenterError(f"unexpected paging method {link.method!r} in {operation}")
        try:
            url = self._page_url(link.uri)
        except _BadPayload as exc:
            raise PermanentPartnerCenterError(
                f"unexpected answer from Microsoft to {operation}: {exc}"
            ) from exc
        return self._call(link.method, url, parse, operation=operation, headers=dict(link.headers))

    # -- domains and tenants -------------------------------------------------------------------------------

    def domain_exists(self, fqdn: str) -> bool:
        """Whether Partner Center knows the domain (200) or not (404); anything else raises."""
        if not fqdn or "/" in fqdn:
            raise ValueError("fqdn must be a domain name")
        return self._call(
            "HEAD",
            self._api(f"domains/{quote(fqdn, safe='')}"),
            lambda r: r.status_code == 200,
            operation="domain_exists",
            ok=(200, 404),
        )

    def tenant_id_for_domain(self, domain: str) -> str | None:
        """The tenant behind any verified domain via public sign-in discovery; None when Entra knows none."""
        if not domain or "/" in domain:
            raise ValueError("domain must be a domain name")

        def parse(response: requests.Response) -> str | None:
            body = self._json(response)
            if response.status_code == 400:
                codes = body.get("error_codes") if isinstance(body, Mapping) else None
                text = _optional_text(body, "error_description") or ""
                if (isinstance(codes, list) and UNKNOWN_TENANT_CODES.intersection(codes)) or any(
                    f"AADSTS{code}:" in text for code in UNKNOWN_TENANT_CODES
                ):
                    return None
                raise self._error_from_response(response, "tenant_id_for_domain")
            for key in ("issuer", "token_endpoint"):
                match = GUID.search(_optional_text(body, key) or "")
                if match:
                    return match.group(0).lower()
            raise _BadPayload("no tenant id in the openid configuration")

        return self._call(
            "GET",
            f"{self.config.login_url}/{quote(domain, safe='')}/.well-known/openid-configuration",
            parse,
            operation="tenant_id_for_domain",
            resource=None,
            ok=(200, 400),
        )

    def domain_availability(self, domain_prefix: str) -> DomainAvailability:
        """Taken when Partner Center says the domain exists or sign-in discovery knows its tenant."""
        prefix = domain_prefix.strip().lower()
        if not PREFIX_PATTERN.match(prefix):
            raise ValueError("domain prefix must be 1 to 27 letters or digits")
        domain = f"{prefix}.onmicrosoft.com"
        # The two questions are independent: sign-in discovery (no token, nothing recorded) is asked on a side
        # thread while Partner Center is asked here, so the buyer waits for the slower of the two, not the sum.
        discovery = self._side_pool().submit(copy_context().run, self.tenant_id_for_domain, domain)
        try:
            exists = self.domain_exists(domain)
        except BaseException:
            futures.wait([discovery])  # its outcome no longer matters, but it ends before this call does
            raise
        tenant_id = discovery.result()
        return DomainAvailability(
            domain_prefix=prefix,
            domain=domain,
            available=not exists and tenant_id is None,
            tenant_id=tenant_id,
        )

    # -- resellers and relationships -----------------------------------------------------------------------

    def relationship_request_link(
        self,
        *,
        indirect_reseller_tenant_id: str | None = None,
        indirect_provider_tenant_id: str | None = None,
    ) -> RelationshipRequestLink:
        """The invitation a customer admin accepts; with reseller ids it ties customer, reseller and us."""
        params: dict[str, str] = {}
        if indirect_reseller_tenant_id:
            params["indirectResellerId"] = indirect_reseller_tenant_id
        if indirect_provider_tenant_id:
            params["indirectCloudSolutionProviderId"] = indirect_provider_tenant_id

        def parse(response: requests.Response) -> RelationshipRequestLink:
            url = _text(self._json(response), "url")
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise _BadPayload("relationship request url is not a web address")
            return RelationshipRequestLink(url=url)

        return self._call(
            "GET",
            self._api("customers/relationshiprequests"),
            parse,
            operation="relationship_request_link",
            params=params or None,
        )

    def indirect_resellers(self) -> list[IndirectReseller]:
        """Every indirect reseller in the distributor's network, following `links.next` defensively."""
        operation = "indirect_resellers"

        def parse(response: requests.Response) -> tuple[list[IndirectReseller], PageLink | None]:
            body = self._json(response)
            resellers = [
                IndirectReseller(
                    tenant_id=_text(item, "id"),
                    name=_optional_text(item, "name") or "",
                    mpn_id=_optional_text(item, "mpnId") or "",
                    state=_optional_text(item, "state") or "",
                    location=_optional_text(item, "location"),
                )
                for item in _items(body)
            ]
            return resellers, self._next_link(body)

        page, link = self._call(
            "GET",
            self._api("relationships"),
            parse,
            operation=operation,
            params={"relationship_type": "IsIndirectCloudSolutionProviderOf"},
        )
        resellers = list(page)
        for _ in range(MAX_PAGES):
            if link is None:
                break
            page, link = self._follow(link, parse, operation=operation)
            resellers.extend(page)
        return resellers

    def agreement_status(self, *, mpn_id: str | None = None, tenant_id: str | None = None) -> AgreementStatus:
        """Whether a reseller signed the Microsoft Partner Agreement, with Microsoft's reason when not.

        Prefer `mpn_id` (the reseller's PLA): only that form reports the region codes 2201 and 2203.
        """
        if (mpn_id is None) == (tenant_id is None):
            raise ValueError("pass exactly one of mpn_id or tenant_id")
        params = {"mpnId": mpn_id} if mpn_id is not None else {"tenantId": tenant_id}

        def parse(response: requests.Response) -> AgreementStatus:
            body = self._json(response)
            if response.status_code == 400:
                code = str(_error_code(body.get("code") if isinstance(body, Mapping) else None))
                if code in AGREEMENT_NOT_SIGNED_MESSAGES:
                    return AgreementStatus(
                        signed=False, code=code, message=AGREEMENT_NOT_SIGNED_MESSAGES[code]
                    )
                raise self._error_from_response(response, "agreement_status")
            signed = _require(body, "isAgreementSigned") if body is not None else None
            if not isinstance(signed, bool):
                raise _BadPayload("'isAgreementSigned' is not a boolean")
            message = "" if signed else "The reseller has not signed the Microsoft Partner Agreement."
            return AgreementStatus(signed=signed, code=None, message=message)

        return self._call(
            "GET",
            self._api("compliance/csp/agreementstatus"),
            parse,
            operation="agreement_status",
            params=params,
            ok=(200, 400),
        )

    # -- customers -----------------------------------------------------------------------------------------

    def get_customer(self, tenant_id: str) -> Customer | None:
        """The customer when the distributor has a relationship with the tenant, else None."""
        try:
            return self._call(
                "GET",
                self._api(f"customers/{quote(tenant_id, safe='')}"),
                lambda r: _customer_from(self._json(r)),
                operation="get_customer",
            )
        except NotFound:
            return None
        except PermanentPartnerCenterError as exc:
            if exc.status == 403 and str(exc.code) == NO_COMMERCE_RELATIONSHIP_CODE:
                return None
            raise

    def customer_relationships(self, tenant_id: str) -> list[PartnerRelationship]:
        """The indirect resellers linked to a customer; Microsoft answers an empty or null body when none."""

        def parse(response: requests.Response) -> list[PartnerRelationship]:
            return [
                PartnerRelationship(
                    tenant_id=_text(item, "id"),
                    name=_optional_text(item, "name") or "",
                    relationship_type=_optional_text(item, "relationshipType") or "",
                    mpn_id=_optional_text(item, "mpnId"),
                )
                for item in _items(self._json(response))
            ]

        return self._call(
            "GET",
            self._api(f"customers/{quote(tenant_id, safe='')}/relationships"),
            parse,
            operation="customer_relationships",
        )

    def _parse_customer_page(self, response: requests.Response) -> CustomerPage:
        body = self._json(response)
        return CustomerPage(
            items=tuple(_customer_from(item) for item in _items(body)), next=self._next_link(body)
        )

    def customers_page(
        self,
        *,
        size: int = 500,
        continuation: PageLink | None = None,
    ) -> CustomerPage:
        """One page of the distributor's customers: exactly one call, so polling costs one call per page."""
        if continuation is not None:
            return self._follow(continuation, self._parse_customer_page, operation="customers_page")
        return self._call(
            "GET",
            self._api("customers"),
            self._parse_customer_page,
            operation="customers_page",
            params={"size": size},
        )

    def validate_address(self, address: Address) -> AddressValidation:
        """Microsoft's verdict on a billing address, reading the current and the legacy (2007) answers."""
        body = {
            "AddressLine1": address.address_line1,
            "AddressLine2": address.address_line2,
            "City": address.city,
            "State": address.state,
            "PostalCode": address.postal_code,
            "Country": address.country,
        }
        if address.region:
            body["Region"] = address.region

        def parse(response: requests.Response) -> AddressValidation:
            payload = self._json(response)
            if response.status_code == 400:
                code = payload.get("code") if isinstance(payload, Mapping) else None
                if str(_error_code(code)) != LEGACY_ADDRESS_INVALID_CODE:
                    raise self._error_from_response(response, "validate_address")
                return self._legacy_address_validation(payload, address)
            if payload is None:
                return AddressValidation(
                    status="Verified", suggested_addresses=(), message=None, original=address
                )
            suggestions = payload.get("suggestedAddresses") or []
            if not isinstance(suggestions, list):
                raise _BadPayload("'suggestedAddresses' is not a list")
            original = payload.get("originalAddress")
            return AddressValidation(
                status=_text(payload, "status"),
                suggested_addresses=tuple(_address_from(item) for item in suggestions),
                message=_optional_text(payload, "validationMessage"),
                original=_address_from(original) if original else address,
            )

        return self._call(
            "POST",
            self._api("validations/address"),
            parse,
            operation="validate_address",
            body=body,
            ok=(200, 400),
        )

    @staticmethod
    def _legacy_address_validation(payload: Mapping[str, Any], address: Address) -> AddressValidation:
        description = _optional_text(payload, "description") or ""
        try:
            detail = json.loads(description)
        except ValueError:
            detail = None
        if not isinstance(detail, Mapping):
            return AddressValidation(
                status="None", suggested_addresses=(), message=description, original=address
            )
        corrected = detail.get("corrected_address")
        suggestions: tuple[Address, ...] = ()
        if isinstance(corrected, Mapping):
            suggestions = (
                Address(
                    country=_optional_text(corrected, "country") or address.country,
                    city=_optional_text(corrected, "city") or "",
                    state=_optional_text(corrected, "region") or _optional_text(corrected, "state"),
                    address_line1=_optional_text(corrected, "address_line1") or "",
                    address_line2=_optional_text(corrected, "address_line2"),
                    postal_code=_optional_text(corrected, "postal_code"),
                ),
            )
        reason = _optional_text(detail, "reason")
        return AddressValidation(
            status="InteractionRequired" if suggestions else "None",
            suggested_addresses=suggestions,
            message=html.unescape(reason) if reason else None,
            original=address,
        )

    def create_customer(self, new_customer: NewCustomer, *, request_id: str) -> CreatedCustomer:
        """Create the tenant; idempotent on `request_id`, so a retry never makes a second one."""
        c = new_customer
        company_profile: dict[str, Any] = {"Domain": c.domain, "CompanyName": c.company_name}
        if c.organization_registration_number:
            company_profile["OrganizationRegistrationNumber"] = c.organization_registration_number
        body: dict[str, Any] = {
            "enableGDAPByDefault": False,
            "CompanyProfile": company_profile,
            "BillingProfile": {
                "Email": c.email,
                "Culture": c.culture,
                "Language": c.language,
                "CompanyName": c.company_name,
                "DefaultAddress": {
                    "Country": c.address.country,
                    "Region": c.address.region,
                    "City": c.address.city,
                    "State": c.address.state,
                    "AddressLine1": c.address.address_line1,
                    "AddressLine2": c.address.address_line2,
                    "PostalCode": c.address.postal_code,
                    "FirstName": c.first_name,
                    "LastName": c.last_name,
                    "PhoneNumber": c.phone_number,
                },
            },
        }
        if c.associated_partner_id:
            body["AssociatedPartnerId"] = c.associated_partner_id

        def parse(response: requests.Response) -> CreatedCustomer:
            payload = self._json(response)
            profile = _require(payload, "companyProfile")
            domain = _optional_text(profile, "domain") or c.domain
            credentials = payload.get("userCredentials")
            user_name = _optional_text(credentials, "userName")
            if user_name and "@" not in user_name:
                user_name = f"{user_name}@{domain}"
            return CreatedCustomer(
                tenant_id=_optional_text(payload, "id") or _text(profile, "tenantId"),
                domain=domain,
                company_name=_optional_text(profile, "companyName") or c.company_name,
                admin_user_name=user_name,
                admin_password=_optional_text(credentials, "password"),
            )

        ids = {"domain": c.domain}
        if c.associated_partner_id:
            ids["associated_partner_id"] = c.associated_partner_id
        return self._call(
            "POST",
            self._api("customers"),
            parse,
            operation="create_customer",
            body=body,
            request_id=request_id,
            record=True,
            ids=ids,
            result_ids=lambda created: {"tenant_id": created.tenant_id},
        )

    def customer_agreement_template_id(self) -> str:
        """The current Microsoft Customer Agreement template id (fetched, never hard-coded)."""

        def parse(response: requests.Response) -> str:
            items = _items(self._json(response))
            if not items:
                raise _BadPayload("no agreement templates returned")
            return _text(items[0], "templateId")

        return self._call(
            "GET",
            self._api("agreements"),
            parse,
            operation="customer_agreement_template_id",
            params={"agreementType": "MicrosoftCustomerAgreement"},
        )

    def accept_customer_agreement(
        self,
        tenant_id: str,
        *,
        contact: AgreementContact,
        template_id: str,
        date_agreed: datetime,
        request_id: str,
    ) -> None:
        """Record the customer's acceptance of the MCA; orders fail with 13605 without it."""
        primary_contact = {
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "email": contact.email,
        }
        if contact.phone_number:
            primary_contact["phoneNumber"] = contact.phone_number
        body = {
            "primaryContact": primary_contact,
            "templateId": template_id,
            "dateAgreed": _utc_iso(date_agreed),
            "type": "MicrosoftCustomerAgreement",
        }
        self._call(
            "POST",
            self._api(f"customers/{quote(tenant_id, safe='')}/agreements"),
            lambda r: None,
            operation="accept_customer_agreement",
            body=body,
            request_id=request_id,
            record=True,
            ids={"tenant_id": tenant_id, "template_id": template_id},
        )

    # -- orders --------------------------------------------------------------------------------------------

    def create_cart(self, tenant_id: str, lines: Sequence[CartLine], *, request_id: str) -> Cart:
        """A new-commerce cart whose lines name the reseller's MPN ID as `transaction_reseller`."""
        if not lines:
            raise ValueError("a cart needs at least one line")
        line_items = []
        for number, line in enumerate(lines):
            item: dict[str, Any] = {
                "id": number,
                "catalogItemId": line.catalog_item_id,
                "quantity": line.quantity,
                "billingCycle": line.billing_cycle,
            }
            if line.term_duration:
                item["termDuration"] = line.term_duration
            if line.partner_id_on_record:
                item["participants"] = [{"key": "transaction_reseller", "value": line.partner_id_on_record}]
            if line.attestation_accepted:
                item["attestationAccepted"] = True
            item["provisioningContext"] = {}
            line_items.append(item)
        body: dict[str, Any] = {"lineItems": line_items}
        if any(line.partner_id_on_record for line in lines):
            body = {"PartnerOnRecordAttestationAccepted": True, **body}

        def parse(response: requests.Response) -> Cart:
            payload = self._json(response)
            return Cart(
                id=_text(payload, "id"),
                status=_optional_text(payload, "status"),
                line_errors=_cart_line_errors(payload),
            )

        return self._call(
            "POST",
            self._api(f"customers/{quote(tenant_id, safe='')}/carts"),
            parse,
            operation="create_cart",
            body=body,
            request_id=request_id,
            record=True,
            ids={"tenant_id": tenant_id},
            result_ids=lambda cart: {"cart_id": cart.id},
        )

    def checkout_cart(self, tenant_id: str, cart_id: str, *, request_id: str) -> CheckoutResult:
        """Turn the cart into orders; a 201 may still carry per-order errors."""

        def parse(response: requests.Response) -> CheckoutResult:
            payload = self._json(response)
            if not isinstance(payload, Mapping):
                raise _BadPayload("checkout result is not an object")
            orders = payload.get("orders") or []
            errors = payload.get("orderErrors") or []
            if not isinstance(orders, list) or not isinstance(errors, list):
                raise _BadPayload("'orders' or 'orderErrors' is not a list")
            return CheckoutResult(
                orders=tuple(_order_from(order) for order in orders),
                errors=tuple(
                    OrderError(
                        code=_error_code(error.get("code")) if isinstance(error, Mapping) else None,
                        description=_optional_text(error, "description"),
                    )
                    for error in errors
                ),
            )

        return self._call(
            "POST",
            self._api(f"customers/{quote(tenant_id, safe='')}/carts/{quote(cart_id, safe='')}/checkout"),
            parse,
            operation="checkout_cart",
            request_id=request_id,
            record=True,
            ids={"tenant_id": tenant_id, "cart_id": cart_id},
            result_ids=lambda result: {"order_ids": ",".join(order.id for order in result.orders)},
        )

    def get_order(self, tenant_id: str, order_id: str) -> PartnerOrder:
        """One order's current state, for polling pending orders."""
        return self._call(
            "GET",
            self._api(f"customers/{quote(tenant_id, safe='')}/orders/{quote(order_id, safe='')}"),
            lambda r: _order_from(self._json(r)),
            operation="get_order",
        )

    # -- catalog and prices ---------------------------------------------------------------------------------

    def price_sheet(
        self, market: str, *, timeline: str = "current", month: str | None = None
    ) -> bytes | None:
        """The new-commerce price list of one market as CSV bytes (App+User, its own audience); None when
        Microsoft has no such file (the future timeline when next month brings no change)."""
        if not re.fullmatch(r"[A-Za-z]{2}", market):
            raise ValueError(f"market must be a two-letter country code, not {market!r}")
        if timeline not in ("current", "future", "history"):
            raise ValueError(f"timeline must be current, future or history, not {timeline!r}")
        params = {"timeline": timeline}
        if month:
            params["month"] = month

        def parse(response: requests.Response) -> bytes | None:
            return None if response.status_code == 404 else _file_from(response)

        view = f"pricesheets(Market='{market.upper()}',PricesheetView='updatedlicensebased')/$value"
        return self._call(
            "GET",
            self._sales(view),
            parse,
            operation="price_sheet",
            resource="partner_sales",
            params=params,
            headers={"Accept": "*/*", "Accept-Encoding": "deflate"},
            ok={200, 404},
        )

    def offer_matrix(self, month: str) -> bytes:
        """The month's offer matrix as CSV bytes: seat limits, prerequisites and allowed countries per SKU."""
        if not re.fullmatch(r"\d{6}", month):
            raise ValueError(f"month must be YYYYMM, not {month!r}")
        return self._call(
            "GET",
            self._sales(f"offermatrix(Month='{month}')/$value"),
            _file_from,
            operation="offer_matrix",
            resource="partner_sales",
            headers={"Accept": "*/*", "Accept-Encoding": "deflate"},
        )

    def customer_sku(self, tenant_id: str, product_id: str, sku_id: str) -> CatalogSku:
        """One SKU as this customer may buy it (seat limits, attestation)."""
        return self._call(
            "GET",
            self._api(
                f"customers/{quote(tenant_id, safe='')}/products/{quote(product_id, safe='')}"
                f"/skus/{quote(sku_id, safe='')}"
            ),
            lambda r: _catalog_sku_from(self._json(r)),
            operation="customer_sku",
        )

    def customer_availabilities(
        self, tenant_id: str, product_id: str, sku_id: str, *, segment: str | None = None
    ) -> list[Availability]:
        """Today's availabilities of a SKU for this customer: the catalog item id to put in its cart."""
        params = {"targetSegment": segment} if segment else None
        return self._call(
            "GET",
            self._api(
                f"customers/{quote(tenant_id, safe='')}/products/{quote(product_id, safe='')}"
                f"/skus/{quote(sku_id, safe='')}/availabilities"
            ),
            lambda r: [_availability_from(item) for item in _items(self._json(r))],
            operation="customer_availabilities",
            params=params,
        )

    # -- GDAP (Microsoft Graph) ----------------------------------------------------------------------------

    def create_gdap_relationship(
        self,
        *,
        display_name: str,
        customer_tenant_id: str,
        customer_name: str,
        role_definition_ids: Sequence[str],
        duration_days: int,
        auto_extend: bool,
        request_id: str,
    ) -> GdapRelationship:
        """Create a GDAP relationship in `created` state (Microsoft's rules on roles are the caller's to apply).

        Graph documents no idempotency for this create: before retrying one that may have reached Microsoft, look
        it up with `find_gdap_relationship` (display names are unique per partner).
        """
        if not role_definition_ids:
            raise ValueError("at least one role is required")
        if not 1 <= duration_days <= 730:
            raise ValueError("duration_days must be between 1 and 730")
        if not display_name or len(display_name) > 50:
            raise ValueError("display_name must be 1 to 50 characters")
        body = {
            "displayName": display_name,
            "duration": f"P{duration_days}D",
            "customer": {"tenantId": customer_tenant_id, "displayName": customer_name},
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in role_definition_ids]},
            "autoExtendDuration": "P180D" if auto_extend else "PT0S",
        }
        return self._call(
            "POST",
            self._graph("tenantRelationships/delegatedAdminRelationships"),
            lambda r: _gdap_from(self._json(r)),
            operation="create_gdap_relationship",
            resource="graph",
            body=body,
            request_id=request_id,
            record=True,
            ids={"customer_tenant_id": customer_tenant_id, "display_name": display_name},
            result_ids=lambda relationship: {"relationship_id": relationship.id},
        )

    def find_gdap_relationship(self, display_name: str) -> GdapRelationship | None:
        """The partner's relationship with this display name, if a create already reached Microsoft."""
        query = urlencode(
            {"$filter": f"displayName eq {_odata_string(display_name)}"}, quote_via=quote, safe="$"
        )

        def parse(response: requests.Response) -> GdapRelationship | None:
            found = [_gdap_from(item) for item in _graph_values(self._json(response))]
            return next((r for r in found if (r.display_name or "").lower() == display_name.lower()), None)

        return self._call(
            "GET",
            self._graph(f"tenantRelationships/delegatedAdminRelationships?{query}"),
            parse,
            operation="find_gdap_relationship",
            resource="graph",
        )

    def lock_gdap_for_approval(
        self, relationship_id: str, *, etag: str | None = None, request_id: str | None = None
    ) -> None:
        """Lock a created relationship so the customer can approve it through the invitation link."""
        self._call(
            "POST",
            self._graph(
                f"tenantRelationships/delegatedAdminRelationships/{quote(relationship_id, safe='')}/requests"
            ),
            lambda r: None,
            operation="lock_gdap_for_approval",
            resource="graph",
            body={"action": "lockForApproval"},
            headers={"If-Match": etag} if etag else None,
            request_id=request_id,
            record=True,
            ids={"relationship_id": relationship_id},
        )

    def get_gdap_relationship(self, relationship_id: str) -> GdapRelationship:
        """A GDAP relationship's current status, to follow it to `active`."""
        return self._call(
            "GET",
            self._graph(f"tenantRelationships/delegatedAdminRelationships/{quote(relationship_id, safe='')}"),
            lambda r: _gdap_from(self._json(r)),
            operation="get_gdap_relationship",
            resource="graph",
        )

    def gdap_relationships_sample(self, *, top: int = 1) -> list[GdapRelationship]:
        """A first page of the distributor's GDAP relationships (read-only; the health check's Graph probe)."""

        def parse(response: requests.Response) -> list[GdapRelationship]:
            body = self._json(response)
            items = body.get("value") if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise _BadPayload("'value' is not a list")
            return [_gdap_from(item) for item in items[:top]]

        return self._call(
            "GET",
            self._graph("tenantRelationships/delegatedAdminRelationships"),
            parse,
            operation="gdap_relationships_sample",
            resource="graph",
            params={"$top": top},
        )

    def create_gdap_access_assignment(
        self,
        relationship_id: str,
        *,
        security_group_id: str,
        role_definition_ids: Sequence[str],
        request_id: str,
    ) -> GdapAccessAssignment:
        """Give the roles of an active relationship to one of the partner's security groups (`pending` at first).

        Without an access assignment nobody in the partner's tenant has any role in the customer's tenant.
        """
        body = {
            "accessContainer": {
                "accessContainerId": security_group_id,
                "accessContainerType": "securityGroup",
            },
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in role_definition_ids]},
        }
        return self._call(
            "POST",
            self._graph(
                f"tenantRelationships/delegatedAdminRelationships/{quote(relationship_id, safe='')}"
                "/accessAssignments"
            ),
            lambda r: _assignment_from(self._json(r)),
            operation="create_gdap_access_assignment",
            resource="graph",
            body=body,
            request_id=request_id,
            record=True,
            ids={"relationship_id": relationship_id, "security_group_id": security_group_id},
            result_ids=lambda assignment: {"access_assignment_id": assignment.id},
        )

    def gdap_access_assignments(self, relationship_id: str) -> list[GdapAccessAssignment]:
        """A relationship's access assignments, to find one a create may already have made."""
        return self._call(
            "GET",
            self._graph(
                f"tenantRelationships/delegatedAdminRelationships/{quote(relationship_id, safe='')}"
                "/accessAssignments"
            ),
            lambda r: [_assignment_from(item) for item in _graph_values(self._json(r))],
            operation="list_gdap_access_assignments",
            resource="graph",
        )

    def get_gdap_access_assignment(self, relationship_id: str, assignment_id: str) -> GdapAccessAssignment:
        """An access assignment's current status, to follow it from `pending` to `active`."""
        return self._call(
            "GET",
            self._graph(
                f"tenantRelationships/delegatedAdminRelationships/{quote(relationship_id, safe='')}"
                f"/accessAssignments/{quote(assignment_id, safe='')}"
            ),
            lambda r: _assignment_from(self._json(r)),
            operation="get_gdap_access_assignment",
            resource="graph",
        )

    def gdap_approval_link(self, relationship_id: str) -> str:
        """The admin-portal page where the customer's Global Admin approves; the sandbox imitates it."""
        base = ADMIN_PORTAL_URL if self.config.mode == "live" else self.config.api_url
        path = "AdminPortal/Home#/partners/invitation/granularAdminRelationships"
        return f"{base}/{path}/{quote(relationship_id)}"

    # -- webhooks ------------------------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str]) -> WebhookRegistration:
        """Subscribe our receiver to Partner Center events; an existing registration is replaced."""
        body = {"WebhookUrl": url, "WebhookEvents": list(events)}
        endpoint = f"{self.config.api_url}/webhooks/v1/registration"

        def parse(response: requests.Response) -> WebhookRegistration:
            payload = self._json(response)
            registered = payload.get("WebhookEvents") if isinstance(payload, Mapping) else None
            return WebhookRegistration(
                url=_optional_text(payload, "WebhookUrl") or url,
                events=tuple(str(e) for e in registered) if isinstance(registered, list) else tuple(events),
            )

        try:
            return self._call(
                "POST",
                endpoint,
                parse,
                operation="register_webhook",
                body=body,
                record=True,
                ids={"url": url},
            )
        except PermanentPartnerCenterError as exc:
            if exc.status != 409:
                raise
        return self._call(
            "PUT", endpoint, parse, operation="update_webhook", body=body, record=True, ids={"url": url}
        )

    def webhook_registration(self) -> WebhookRegistration | None:
        """The current webhook registration, or None when there is none (read-only; the health check uses it)."""

        def parse(response: requests.Response) -> WebhookRegistration:
            payload = self._json(response)
            registered = payload.get("WebhookEvents") if isinstance(payload, Mapping) else None
            return WebhookRegistration(
                url=_text(payload, "WebhookUrl"),
                events=tuple(str(e) for e in registered) if isinstance(registered, list) else (),
            )

        try:
            return self._call(
                "GET",
                f"{self.config.api_url}/webhooks/v1/registration",
                parse,
                operation="webhook_registration",
            )
        except NotFound:
            return None

    def send_test_webhook_event(self) -> str:
        """Ask Microsoft to deliver a `test-created` event to the registered URL; answers its correlation id."""

        def parse(response: requests.Response) -> str:
            payload = self._json(response)
            if isinstance(payload, str) and payload:
                return payload
            return _text(payload, "correlationId")

        return self._call(
            "POST",
            f"{self.config.api_url}/webhooks/v1/registration/validationEvents",
            parse,
            operation="send_test_webhook_event",
            record=True,
            result_ids=lambda correlation_id: {"test_correlation_id": correlation_id},
        )

    def _trusted_roots(self) -> list[x509.Certificate]:
        """The CA bundle every other call trusts; in sandbox mode also the sandbox's own CA (never in live mode)."""
        if self._roots is None:
            verify = self._session.verify
            path = verify if isinstance(verify, str) else requests.certs.where()
            with open(path, "rb") as bundle:
                roots = x509.load_pem_x509_certificates(bundle.read())
            if self.config.mode == "sandbox":
                roots.extend(
                    x509.load_pem_x509_certificates(
                        self._call(
                            "GET",
                            f"{self.config.api_url}/_sandbox/ca.pem",
                            lambda r: r.content,
                            operation="sandbox_ca",
                            resource=None,
                        )
                    )
                )
            self._roots = roots
        return self._roots

    def fetch_webhook_certificate(self, url: str) -> bytes:
        """A certificate file named by a delivery (or by its issuer URL), fetched without our token or redirects."""

        def parse(response: requests.Response) -> bytes:
            if len(response.content) > MAX_CERTIFICATE_BYTES:
                raise _BadPayload("the certificate file is too large")
            if not response.content:
                raise _BadPayload("empty certificate file")
            return response.content

        return self._call("GET", url, parse, operation="fetch_webhook_certificate", resource=None)

    def webhook_certificate(self, url: str) -> x509.Certificate:
        """The checked signing certificate at `url`, cached by URL until it expires."""
        with self._certificates_lock:
            cached = self._certificates.get(url)
        if cached is not None and cached.not_valid_after_utc > datetime.now(UTC):
            return cached
        certificate = certificate_check(
            self.fetch_webhook_certificate(url),
            trusted=self._trusted_roots(),
            fetch=self.fetch_webhook_certificate,
        )
        with self._certificates_lock:
            if len(self._certificates) >= MAX_CACHED_CERTIFICATES:
                self._certificates.pop(next(iter(self._certificates)))
            self._certificates[url] = certificate
        return certificate

    def webhook_rejection(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """None for a delivery Microsoft signed, else why it is refused (in an admin's words)."""
        return webhook_rejection(
            body,
            headers,
            certificate_for=self.webhook_certificate,
            certificate_url_prefix=certificate_url_prefix(self.config),
        )
