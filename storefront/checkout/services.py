"""Checkout rules shared by the wizard and the REST API: the server re-checks everything on every submit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from billing.models import Order, OrderLine, billing_address_complete
from billing.validators import validate_person_name, validate_phone
from common.errors import InvalidInput, StorefrontError
from common.singleton import ShortLivedRows
from csp import authorizations, domains, mpn_ids, trust
from csp.errors import (
    AuthorizationNotVerified,
    BillingAddressRequired,
    DomainTaken,
    TenantHeldByAnotherOrganization,
)
from csp.models import TenantAuthorization
from csp.tasks import order_place
from storefront.accounts.models import Organization, User
from storefront.catalog.models import Product
from storefront.catalog.pricing import (
    monthly_equivalent,
    offer_quantity_problem,
    organization_pricing,
    organization_pricing_for_display,
    price_label,
)
from storefront.checkout.models import CheckoutDraft
from storefront.configuration.models import StorefrontConfiguration
from storefront.customers.models import EndCustomer

MAX_QUANTITY = 10000


class IdempotencyConflict(StorefrontError):
    code = "idempotency_conflict"
    status = 409


# Draft and cart ------------------------------------------------------------------------------------------------


def checkout_draft_get(*, user: User, related: tuple[str, ...] = ("end_customer",)) -> CheckoutDraft:
    """The user's open draft (created on first use), so a checkout can be resumed from any browser.

    `related` are joined in the same query (each join costs its compilation on every request). The authorization
    is not joined by default: only a draft with the box ticked has one, and it is then read when first used.
    """
    if user.organization_id is None:
        raise InvalidInput("Only reseller and direct-customer accounts can order.")
    # At most one open draft per user (a unique constraint): no ORDER BY to compile or sort.
    drafts = CheckoutDraft.objects.filter(user=user, status=CheckoutDraft.Status.OPEN).order_by()
    if related:  # select_related() with no names would join every required relation
        drafts = drafts.select_related(*related)
    found = list(drafts[:1])
    draft = found[0] if found else None
    if draft is not None:
        draft.user = user
        if user.organization_id == draft.organization_id and "organization" in user._state.fields_cache:
            draft.organization = user.organization
    if draft is None:
        try:
            with transaction.atomic():
                draft = CheckoutDraft.objects.create(user=user, organization_id=user.organization_id)
        except IntegrityError:
            draft = CheckoutDraft.objects.get(user=user, status=CheckoutDraft.Status.OPEN)
    return draft


def _quantity(raw: Any) -> int:
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidInput("Enter a whole number of licences.", field="quantity") from None
    if quantity < 0 or quantity > MAX_QUANTITY:
        raise InvalidInput(f"Enter between 1 and {MAX_QUANTITY} licences.", field="quantity")
    return quantity


def cart_add(*, draft: CheckoutDraft, product_id: int, quantity: Any = 1) -> CheckoutDraft:
    """Adds licences of a product the buyer may buy; one no longer sold to them is refused by name."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None or not organization_pricing(draft.organization).may_buy(product):
        gone = WithdrawnProduct(str(product_id), product.name if product else "", 0)
        raise InvalidInput(f"{gone.label} is no longer sold.", field="product")
    lines = dict(draft.lines)
    wanted = min(MAX_QUANTITY, lines.get(str(product_id), 0) + max(1, _quantity(quantity)))
    problem = offer_quantity_problem(product, wanted)
    if problem:
        raise InvalidInput(problem, field="quantity")
    lines[str(product_id)] = wanted
    draft.lines = lines
    draft.save(update_fields=["lines", "updated_at"])
    return draft


def cart_set_quantities(*, draft: CheckoutDraft, quantities: dict[str, Any]) -> CheckoutDraft:
    """Sets every line's quantity at once; 0 removes the line."""
    lines = dict(draft.lines)
    for product_id, raw in quantities.items():
        if product_id not in lines:
            continue
        quantity = _quantity(raw)
        if quantity == 0:
            lines.pop(product_id)
        else:
            lines[product_id] = quantity
    _seats_check(lines)
    draft.lines = lines
    draft.save(update_fields=["lines", "updated_at"])
    return draft


def _seats_check(lines: dict[str, int]) -> None:
    """Microsoft's minimum and maximum seats per SKU, checked before the cart keeps a quantity."""
    ids = [int(pk) for pk in lines if str(pk).isdigit()]
    for product in Product.objects.filter(pk__in=ids).only("pk", "name", "min_quantity", "max_quantity"):
        problem = offer_quantity_problem(product, int(lines[str(product.pk)]))
        if problem:
            raise InvalidInput(problem, field="quantity")


@dataclass(frozen=True)
class CartLineView:
    """A cart line at the buyer's own price (per licence, whole term)."""

    product: Product
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def monthly_total(self) -> Decimal:
        return monthly_equivalent(self.total, self.product)

    @property
    def price_label(self) -> str:
        return price_label(self.product)


@dataclass(frozen=True)
class WithdrawnProduct:
    """A product the buyer chose that is no longer sold to them: named to the buyer, never silently dropped."""

    product_id: str
    name: str
    quantity: int

    @property
    def label(self) -> str:
        return f"{self.name} (product {self.product_id})" if self.name else f"Product {self.product_id}"


@dataclass(frozen=True)
class CartContents:
    """The buyer's cart: the lines it may buy at its own prices, and the products withdrawn from sale since."""

    lines: list[CartLineView]
    withdrawn: list[WithdrawnProduct]

    @property
    def withdrawn_message(self) -> str:
        names = ", ".join(product.label for product in self.withdrawn)
        if len(self.withdrawn) == 1:
            return f"{names} is no longer sold: remove it to continue."
        return f"{names} are no longer sold: remove them to continue."


class ProductWithdrawn(StorefrontError):
    code = "product_withdrawn"


def draft_cart(draft: CheckoutDraft) -> CartContents:
    """The draft's cart, read once per request however many steps ask for it."""
    key = tuple(sorted(draft.lines.items()))
    memo = getattr(draft, "_cart_memo", None)
    if memo is None or memo[0] != key:
        memo = (key, cart_contents(draft.lines, for_display=True, organization=draft.organization))
        draft._cart_memo = memo
    return memo[1]


_displayed_products = ShortLivedRows("catalog products by id")
post_save.connect(_displayed_products.forget, sender=Product, dispatch_uid="displayed-products-save")
post_delete.connect(_displayed_products.forget, sender=Product, dispatch_uid="displayed-products-delete")


def cart_contents(
    lines: dict[str, int], *, for_display: bool = False, organization: Organization | None = None
) -> CartContents:
    """The wizard's and the API's one reading of a cart, its products in one query: what the buyer may buy, and
    what is no longer sold to them (unknown, withdrawn or not for this buyer), which the buyer must remove.

    `for_display` (the wizard's pages) may use products read up to a few seconds ago in this process; placing an
    order never does, so its prices and availability are always the database's.
    """
    ids = [int(pk) for pk in lines if str(pk).isdigit()]
    if for_display:
        products = _displayed_products.get_many(ids, Product.objects.in_bulk)
    else:
        products = Product.objects.in_bulk(ids)
    pricing = (
        organization_pricing_for_display(organization) if for_display else organization_pricing(organization)
    )
    buyable: list[CartLineView] = []
    withdrawn: list[WithdrawnProduct] = []
    for pk, quantity in lines.items():
        product = products.get(int(pk)) if str(pk).isdigit() else None
        if product is not None and pricing.may_buy(product):
            buyable.append(CartLineView(product, int(quantity), pricing.unit_price(product)))
        else:
            withdrawn.append(WithdrawnProduct(str(pk), product.name if product else "", int(quantity)))
    return CartContents(buyable, withdrawn)


def cart_require_available(cart: CartContents) -> None:
    """Nothing withdrawn from sale is ever ordered: the buyer is told which product to remove."""
    if cart.withdrawn:
        raise ProductWithdrawn(cart.withdrawn_message, field="lines")


def cart_total(lines: list[CartLineView]) -> Decimal:
    return sum((line.total for line in lines), Decimal("0"))


def cart_monthly_total(lines: list[CartLineView]) -> Decimal:
    """The per-month equivalent of the whole cart (each line's term price spread over its months)."""
    return sum((line.monthly_total for line in lines), Decimal("0"))


# Customer rules ------------------------------------------------------------------------------------------------


def billing_address_required(*, organization: Organization) -> bool:
    """The one answer to "must the buyer give the billing address?": a direct customer always gives its own, a
    reseller gives its end-customer's when the admin's "Sub customers billing address" switch is on."""
    if organization.kind == Organization.Kind.DIRECT:
        return True
    return StorefrontConfiguration.load().sub_customers_billing_address


def billing_address_missing(*, organization: Organization, end_customer: EndCustomer | None) -> bool:
    """Required (`billing_address_required`) but not complete on whom the order is for: the reseller's
    end-customer, or the direct customer itself."""
    if not billing_address_required(organization=organization):
        return False
    profile_owner = end_customer if organization.is_reseller else organization
    return profile_owner is None or not profile_owner.has_billing_address


def end_customer_for(*, organization: Organization, end_customer_id: Any) -> EndCustomer:
    try:
        return EndCustomer.objects.get(pk=int(end_customer_id), reseller=organization)
    except (TypeError, ValueError, EndCustomer.DoesNotExist):
        raise InvalidInput("Choose one of your customers.", field="end_customer") from None


def billing_profile_require(
    *, organization: Organization, end_customer: EndCustomer | None, new_tenant: bool
) -> dict[str, str]:
    """The billing profile Microsoft will receive, once the address rule passes: required and complete, and for a
    new tenant complete in any case (Microsoft creates no customer without an address)."""
    if organization.is_reseller and end_customer is None:
        raise InvalidInput("Choose the customer you are ordering for.", field="end_customer")
    who = "the end-customer's" if organization.is_reseller else "your"
    if billing_address_missing(organization=organization, end_customer=end_customer):
        raise BillingAddressRequired(
            f"Microsoft needs {who} billing address (address line 1, city, postal code and country). "
            "Complete it in the Customer step.",
            field="address_line1",
        )
    profile = billing_profile_for(organization=organization, end_customer=end_customer)
    if new_tenant and not billing_address_complete(profile):
        raise BillingAddressRequired(
            f"Microsoft needs a billing address to create the new tenant: complete {who} billing address "
            "(address line 1, city, postal code and country) in the Customer step.",
            field="address_line1",
        )
    return profile


def billing_profile_for(*, organization: Organization, end_customer: EndCustomer | None) -> dict[str, str]:
    """The billing profile sent to Microsoft; without an end-customer address, the reseller's address is used."""
    if end_customer is None:
        return organization.billing_profile_dict()
    profile = end_customer.billing_profile_dict()
    if not end_customer.has_billing_address:
        for name in EndCustomer.ADDRESS_FIELDS:
            profile[name] = str(getattr(organization, name) or "")
    return profile


# Service Details ----------------------------------------------------------------------------------------------


@dataclass
class ServiceDetails:
    """What Service Details shows: each check's outcome and whether Checkout may be enabled."""

    domain_prefix: str = ""
    domain_message: str = ""
    domain_ok: bool = False
    domain_taken: bool = False
    mpn_message: str = ""
    mpn_ok: bool = False
    mpn_warning: bool = False
    authorization: TenantAuthorization | None = None
    errors: dict[str, str] | None = None

    @property
    def checkout_enabled(self) -> bool:
        if not self.domain_ok:
            return False
        return not (self.authorization is not None and not self.authorization.is_verified)


def service_details_record(
    *, draft: CheckoutDraft, domain_prefix: str | None, existing_tenant: bool, mpn_id: str | None
) -> None:
    """Keeps what the buyer typed on the draft, exactly as typed (a wrong value is corrected, never lost).

    Service Details must then be passed again: `service_details_done` is reset. Saved only when something changed.
    """
    before = _service_details_state(draft)
    draft.domain_prefix = _as_typed(domain_prefix, 64)
    draft.existing_tenant = bool(existing_tenant)
    if draft.organization.is_reseller:
        draft.mpn_id = _as_typed(mpn_id, 40)
    draft.service_details_done = False
    _save_if_changed(draft, before)


def _as_typed(value: str | None, max_length: int) -> str:
    # PostgreSQL refuses NUL in text: what the buyer typed is kept without it (it is never a valid character).
    return (value or "").replace("\x00", "").strip()[:max_length]


def _lookup_value(normalize, value: str) -> str | None:
    try:
        return normalize(value)
    except InvalidInput:
        return None


def service_details_lookup_needed(
    *, draft: CheckoutDraft, domain_prefix: str | None, mpn_id: str | None
) -> bool:
    """Whether checking what the buyer typed would ask about a well-formed prefix or MPN ID the draft has not had
    checked: what the lookup budget counts. Every recorded value was checked when recorded, so re-rendering it
    (an unchanged field, the box ticked again) asks nothing new."""
    prefix = _lookup_value(domains.normalize_domain_prefix, _as_typed(domain_prefix, 64))
    if prefix is not None and prefix != _lookup_value(domains.normalize_domain_prefix, draft.domain_prefix):
        return True
    if not draft.organization.is_reseller:
        return False
    mpn = _lookup_value(mpn_ids.normalize_mpn_id, _as_typed(mpn_id, 40))
    return mpn is not None and mpn != _lookup_value(mpn_ids.normalize_mpn_id, draft.mpn_id)


def service_details_waiting(
    *,
    draft: CheckoutDraft,
    domain_prefix: str | None,
    existing_tenant: bool,
    mpn_id: str | None,
    retry_after: int,
) -> ServiceDetails:
    """Checkout while the lookup budget is spent: nothing is recorded or asked; the page shows what was typed (on
    this draft instance only, never saved) and when to select Checkout again."""
    draft.domain_prefix = _as_typed(domain_prefix, 64)
    draft.existing_tenant = bool(existing_tenant)
    if draft.organization.is_reseller:
        draft.mpn_id = _as_typed(mpn_id, 40)
    message = lookup_wait_message(retry_after=retry_after, action="Checkout")
    return ServiceDetails(domain_message=message, errors={"domain_prefix": message})


def lookup_wait_message(
    *, retry_after: int, action: str, checked: str = "domain prefixes and MPN IDs"
) -> str:
    """What a buyer whose lookup budget is spent is told: when to select the button again; nothing typed is lost."""
    seconds = f"{retry_after} second{'' if retry_after == 1 else 's'}"
    return (
        f"You have checked many {checked} in a short time: select {action} again in {seconds}. "
        "What you typed is kept."
    )


def service_details_open(*, draft: CheckoutDraft) -> ServiceDetails:
    """Opening Service Details: the draft's values, else the reseller's default MPN ID and the end-customer's
    initial domain, are recorded (the htmx checks that follow read them from the draft), then shown checked.
    Nothing is created at Microsoft."""
    organization = draft.organization
    mpn_id = draft.mpn_id or (organization.mpn_id if organization.is_reseller else "")
    domain_prefix = draft.domain_prefix
    end_customer = draft.end_customer
    if not domain_prefix and end_customer and end_customer.domain.endswith(".onmicrosoft.com"):
        domain_prefix = end_customer.domain.removesuffix(".onmicrosoft.com")
    service_details_record(
        draft=draft, domain_prefix=domain_prefix, existing_tenant=draft.existing_tenant, mpn_id=mpn_id
    )
    return _service_details_checks(draft, fresh=False, may_request_authorization=False)


def service_details_shown(*, draft: CheckoutDraft) -> ServiceDetails:
    """What the page shows after an authorization changed (verified, polled): the recorded values, checked."""
    return _service_details_checks(draft, fresh=False, may_request_authorization=False)


def service_details_check(
    *,
    draft: CheckoutDraft,
    domain_prefix: str | None,
    existing_tenant: bool,
    mpn_id: str | None,
    field: str = "domain",
) -> ServiceDetails:
    """As the buyer types: records the field, checks (cached answers allowed); ticking the box or correcting
    the MPN ID asks Microsoft for the authorization link, typing a prefix does not."""
    service_details_record(
        draft=draft, domain_prefix=domain_prefix, existing_tenant=existing_tenant, mpn_id=mpn_id
    )
    return _service_details_checks(draft, fresh=False, may_request_authorization=field in ("box", "mpn"))


def service_details_complete(
    *,
    draft: CheckoutDraft,
    domain_prefix: str,
    existing_tenant: bool,
    mpn_id: str | None,
    afresh: bool = True,
) -> ServiceDetails:
    """The Checkout button: every rule checked afresh with Microsoft (or, when `afresh` is False because the
    buyer's lookup budget is spent on an unchanged value, with its answer of the last seconds); the draft moves on
    to Review only if all pass."""
    service_details_record(
        draft=draft, domain_prefix=domain_prefix, existing_tenant=existing_tenant, mpn_id=mpn_id
    )
    result = _service_details_checks(draft, fresh=afresh, may_request_authorization=True)
    if result.checkout_enabled and not result.errors:
        draft.service_details_done = True
        draft.save(update_fields=["service_details_done", "updated_at"])
    return result


def _service_details_checks(
    draft: CheckoutDraft, *, fresh: bool, may_request_authorization: bool
) -> ServiceDetails:
    """Checks the recorded prefix, MPN ID and authorization (1. prefix rule, 2. MPN ID, 3. the authorization when
    the box is ticked, else the prefix's availability), binding the draft to the authorization that applies."""
    before = _service_details_state(draft)
    result = ServiceDetails(errors={})
    prefix = _checked_prefix(draft, result, fresh=fresh)
    mpn = _checked_mpn(draft, result, fresh=fresh)
    if prefix is not None and draft.existing_tenant:
        draft.authorization = _draft_authorization(
            draft, result, prefix, mpn, request=may_request_authorization or fresh
        )
    else:
        draft.authorization = None
        if prefix is not None:
            _check_availability(draft, result, prefix, fresh=fresh)
    if not result.mpn_ok:
        result.domain_ok = False
    _save_if_changed(draft, before)
    return result


def _checked_prefix(draft: CheckoutDraft, result: ServiceDetails, *, fresh: bool) -> str | None:
    try:
        prefix = domains.normalize_domain_prefix(draft.domain_prefix)
    except InvalidInput as error:
        result.errors["domain_prefix"] = error.message
        if draft.domain_prefix or fresh:
            result.domain_message = error.message
        return None
    result.domain_prefix = prefix
    return prefix


def _checked_mpn(draft: CheckoutDraft, result: ServiceDetails, *, fresh: bool) -> mpn_ids.MpnCheck | None:
    """The reseller's MPN ID: its own (trust boundary) and in the network; direct customers have none."""
    result.mpn_ok = not draft.organization.is_reseller
    if result.mpn_ok:
        return None
    try:
        mpn = trust.buyer_mpn_id_check(
            organization_id=draft.organization_id, mpn_id=draft.mpn_id, fresh=fresh
        )
    except StorefrontError as error:
        result.mpn_message = error.message
        result.errors["mpn_id"] = error.message
        return None
    result.mpn_ok = mpn.valid
    result.mpn_message = mpn.message
    result.mpn_warning = mpn.owned and not mpn.valid
    if not mpn.valid:
        result.errors["mpn_id"] = mpn.message
    return mpn


def _draft_authorization(
    draft: CheckoutDraft,
    result: ServiceDetails,
    prefix: str,
    mpn: mpn_ids.MpnCheck | None,
    *,
    request: bool,
) -> TenantAuthorization | None:
    """The authorization for the draft's prefix and MPN ID: the one it already has, else (when `request`) a new
    or reused one from `csp.authorizations`. Checkout waits until it is verified."""
    is_reseller = draft.organization.is_reseller
    authorization = draft.authorization
    if not (
        authorization is not None
        and authorization.domain_prefix == prefix
        and authorization.status in {TenantAuthorization.Status.PENDING, TenantAuthorization.Status.VERIFIED}
        and (not is_reseller or authorization.reseller_mpn_id == draft.mpn_id)
    ):
        authorization = None
        if request and result.mpn_ok:
            try:
                authorization = authorizations.tenant_authorization_request(
                    organization_id=draft.organization_id,
                    user_id=draft.user_id,
                    domain_prefix=prefix,
                    mpn_id=draft.mpn_id if is_reseller else None,
                    end_customer_id=draft.end_customer_id,
                    mpn_check=mpn,
                )
            except StorefrontError as error:
                result.errors["existing_tenant"] = error.message
    result.authorization = authorization
    result.domain_ok = result.mpn_ok and authorization is not None
    if authorization is None and "existing_tenant" not in result.errors:
        result.errors["existing_tenant"] = (
            "Enter a valid MPN ID first: the authorization link ties your customer to your MPN ID."
            if is_reseller and not result.mpn_ok
            else "The authorization link could not be created yet."
        )
    elif authorization is not None and not authorization.is_verified:
        result.errors["existing_tenant"] = authorizations.NOT_YET_MESSAGE + " Verify the authorization first."
    return authorization


def _check_availability(draft: CheckoutDraft, result: ServiceDetails, prefix: str, *, fresh: bool) -> None:
    """A new tenant: the prefix must be free at Microsoft."""
    try:
        check = domains.domain_prefix_check(
            domain_prefix=prefix, for_reseller=draft.organization.is_reseller, fresh=fresh
        )
    except StorefrontError as error:
        result.domain_message = error.message
        result.errors["domain_prefix"] = error.message
        return
    result.domain_message = check.message
    result.domain_taken = not check.available
    result.domain_ok = check.available and result.mpn_ok
    if not check.available:
        result.errors["domain_prefix"] = check.message


def _service_details_state(draft: CheckoutDraft) -> tuple:
    return (
        draft.domain_prefix,
        draft.existing_tenant,
        draft.mpn_id,
        draft.authorization_id,
        draft.service_details_done,
    )


def _save_if_changed(draft: CheckoutDraft, before: tuple) -> None:
    if _service_details_state(draft) != before:
        draft.save(
            update_fields=[
                "domain_prefix",
                "existing_tenant",
                "mpn_id",
                "authorization",
                "service_details_done",
                "updated_at",
            ]
        )


# Placing the order ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementAcceptance:
    accepted: bool
    first_name: str
    last_name: str
    email: str
    phone: str = ""


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _validate_agreement(agreement: AgreementAcceptance) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if not agreement.accepted:
        raise InvalidInput(
            "The customer must accept the Microsoft Customer Agreement before the order is placed.",
            field="accepted",
        )
    checks = [
        ("first_name", validate_person_name, agreement.first_name),
        ("last_name", validate_person_name, agreement.last_name),
        ("email", validate_email, agreement.email),
        ("phone", validate_phone, agreement.phone),
    ]
    fields: dict[str, list[str]] = {}
    for name, check, value in checks:
        try:
            if name != "phone" and not (value or "").strip():
                raise ValidationError("This field is required.")
            check(value)
        except ValidationError as error:
            fields[name] = list(error.messages)
    if fields:
        first = next(iter(fields.values()))[0]
        raise InvalidInput(f"Check the customer contact who accepts the agreement: {first}", fields=fields)


def order_submit(
    *,
    user: User,
    lines: dict[str, int],
    end_customer_id: int | None,
    domain_prefix: str | None,
    authorization_id: int | None,
    mpn_id: str | None,
    agreement: AgreementAcceptance,
    idempotency_key: str,
    afresh: bool = True,
) -> tuple[Order, bool]:
    """Re-checks every rule, then creates the order once per idempotency key and hands it to the worker.

    A new tenant's prefix is asked of Microsoft afresh, unless `afresh` is False (the buyer's lookup budget is
    spent): then Microsoft's answer of the last seconds stands in (Microsoft refuses a taken domain anyway)."""
    organization = user.organization
    if organization is None:
        raise InvalidInput("Only reseller and direct-customer accounts can order.")
    fingerprint = _fingerprint(
        {
            "lines": {str(k): int(v) for k, v in lines.items()},
            "end_customer": end_customer_id,
            "domain_prefix": domain_prefix,
            "authorization": authorization_id,
            "mpn_id": mpn_id,
            "agreement": agreement.__dict__,
        }
    )
    existing = Order.objects.filter(organization=organization, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict("This idempotency key was already used for a different order.")
        return existing, False

    cart = cart_contents(lines, organization=organization)
    cart_require_available(cart)
    chosen = cart.lines
    if not chosen or any(line.quantity < 1 for line in chosen):
        raise InvalidInput("The cart is empty: add at least one product.", field="lines")
    for line in chosen:
        problem = offer_quantity_problem(line.product, line.quantity)
        if problem:
            raise InvalidInput(problem, field="lines")
    end_customer = None
    if organization.is_reseller:
        if end_customer_id is None:
            raise InvalidInput("Choose the end-customer you are ordering for.", field="end_customer")
        end_customer = end_customer_for(organization=organization, end_customer_id=end_customer_id)
    billing_profile = billing_profile_require(
        organization=organization, end_customer=end_customer, new_tenant=authorization_id is None
    )
    owned_mpn = trust.buyer_mpn_id(organization_id=organization.pk, mpn_id=mpn_id)
    _validate_agreement(agreement)
    mpn = mpn_ids.mpn_id_require(mpn_id=owned_mpn) if owned_mpn else None

    authorization = None
    prefix = ""
    if authorization_id is not None:
        authorization = trust.order_authorization_require(
            organization_id=organization.pk,
            authorization_id=authorization_id,
            end_customer_id=end_customer.pk if end_customer else None,
        )
        if not authorization.is_verified:
            raise AuthorizationNotVerified(
                authorizations.NOT_YET_MESSAGE + " Verify the authorization before placing the order.",
                field="authorization",
            )
        if mpn and authorization.reseller_mpn_id != mpn.mpn_id:
            raise AuthorizationNotVerified(
                f"The authorization was given for MPN ID {authorization.reseller_mpn_id}, not {mpn.mpn_id}.",
                field="mpn_id",
            )
        if not trust.organization_holds_tenant(
            organization_id=organization.pk, tenant_id=authorization.customer_tenant_id
        ):
            raise TenantHeldByAnotherOrganization(
                "Your organisation does not hold this Microsoft tenant (any more). Ask the distributor to confirm "
                "that it is yours.",
                field="authorization",
            )
        if end_customer is not None and authorization.end_customer_id is None:
            # Asked without an end-customer (the API allows it): this order names it, once and for all.
            authorizations.tenant_authorization_end_customer_bind(
                authorization_id=authorization.pk, end_customer_id=end_customer.pk
            )
            authorization = trust.order_authorization_require(
                organization_id=organization.pk,
                authorization_id=authorization_id,
                end_customer_id=end_customer.pk,
            )
        prefix = authorization.domain_prefix
    else:
        prefix = domains.normalize_domain_prefix(domain_prefix)
        check = domains.domain_prefix_check(
            domain_prefix=prefix, for_reseller=organization.is_reseller, fresh=afresh
        )
        if not check.available:
            raise DomainTaken(check.message, field="domain_prefix")

    try:
        with transaction.atomic():
            order = Order.objects.create(
                number=Order.new_number(),
                organization=organization,
                end_customer=end_customer,
                placed_by=user,
                tenant=Order.Tenant.EXISTING if authorization else Order.Tenant.NEW,
                domain_prefix=prefix,
                authorization=authorization,
                customer_tenant_id=authorization.customer_tenant_id if authorization else "",
                partner_mpn_id=mpn.mpn_id if mpn else "",
                reseller_tenant_id=mpn.reseller_tenant_id if mpn else "",
                billing_profile=billing_profile,
                agreement_first_name=agreement.first_name.strip(),
                agreement_last_name=agreement.last_name.strip(),
                agreement_email=agreement.email.strip(),
                agreement_phone=agreement.phone.strip(),
                agreement_accepted_at=timezone.now(),
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                total=cart_total(chosen),
                currency=chosen[0].product.currency,
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    product=line.product,
                    product_name=line.product.name,
                    catalog_item_id=line.product.catalog_item_id,
                    term_duration=line.product.term_duration,
                    billing_cycle=line.product.billing_cycle,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in chosen
            )
            order_id = order.pk  # a broker outage loses nothing: beat's resume pass queues a submitted order
            transaction.on_commit(lambda: order_place.delay(order_id), robust=True)
    except IntegrityError:
        existing = Order.objects.get(organization=organization, idempotency_key=idempotency_key)
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict(
                "This idempotency key was already used for a different order."
            ) from None
        return existing, False
    return order, True


def order_placed_with_key(*, organization: Organization, idempotency_key: str) -> bool:
    """Whether this key already placed an order: a resent request answers it without asking Microsoft again."""
    return Order.objects.filter(organization=organization, idempotency_key=idempotency_key).exists()


def checkout_recently_placed(*, user: User, within_minutes: int = 30) -> Order | None:
    """The order a resent Place order belongs to, so a double submit lands on it rather than on an empty cart."""
    since = timezone.now() - timedelta(minutes=within_minutes)
    draft = (
        CheckoutDraft.objects.filter(user=user, status=CheckoutDraft.Status.ORDERED, updated_at__gte=since)
        .select_related("order")
        .order_by("-updated_at")
        .first()
    )
    return draft.order if draft else None


def checkout_place_order(
    *, draft: CheckoutDraft, agreement: AgreementAcceptance, afresh: bool = True
) -> tuple[Order, bool]:
    """Place order from the wizard: one order per draft, however often the button is pressed (`afresh`: as in
    `order_submit`)."""
    if draft.status == CheckoutDraft.Status.ORDERED and draft.order_id:
        return draft.order, False
    order, created = order_submit(
        user=draft.user,
        lines=draft.lines,
        end_customer_id=draft.end_customer_id,
        domain_prefix=None if draft.existing_tenant else draft.domain_prefix,
        authorization_id=draft.authorization_id if draft.existing_tenant else None,
        mpn_id=draft.mpn_id or None,
        agreement=agreement,
        idempotency_key=f"checkout-draft-{draft.pk}",
        afresh=afresh,
    )
    CheckoutDraft.objects.filter(pk=draft.pk).update(
        status=CheckoutDraft.Status.ORDERED, order=order, updated_at=timezone.now()
    )
    return order, created
