"""Places a storefront order with Microsoft: customer, agreement, cart, checkout.

Each step stores its MS-RequestId before the call and its result after, so a retry (or a worker killed midway)
re-sends the same request id or skips the step, and Microsoft never gets a second customer, cart or order.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from billing.models import Order, billing_address_complete
from billing.sealing import seal
from csp import connect, signals, trust
from csp.connection import partner_center
from csp.models import TenantHolding
from csp.partner_center.exceptions import (
    PartnerCenterNotConnected,
    PermanentPartnerCenterError,
    TransientPartnerCenterError,
)
from csp.partner_center.schemas import (
    Address,
    AgreementContact,
    CartLine,
    CartLineError,
    NewCustomer,
    PartnerOrder,
    PartnerOrderLine,
)

logger = logging.getLogger(__name__)

FAILURE_MESSAGES: dict[str, str] = {
    "13605": "Microsoft needs the Microsoft Customer Agreement to be accepted before this order.",
    "800016": "Microsoft does not accept the MPN ID on this order as an indirect reseller of the distributor.",
    "900123": "The reseller has not accepted the Microsoft Partner Agreement yet.",
    "900124": "The distributor's Microsoft Partner Agreement is not in force; please contact us.",
    "800010": "Microsoft has no inventory for one of the products just now.",
    "20002": "The distributor has no relationship with this customer's Microsoft tenant.",
    "600006": "Microsoft did not allow the new customer to be created; please contact us.",
}
# Microsoft still works on an earlier attempt (a checkout retried after a timeout): in progress, so retried later,
# never a failure (partner-center-api.md section 9: "treat 409 800060/800064 as in progress").
IN_PROGRESS_CODES = {"800060", "800064"}
ADDRESS_MISSING = (
    "This order could not be placed: Microsoft needs the customer's complete billing address (address line 1, "
    "city, postal code and country) to create the new tenant. Complete it and place the order again."
)


def _progress_step(order: Order, key: str) -> str:
    """The step's request id, created and saved before the first attempt so every retry reuses it."""
    progress = dict(order.progress)
    request_id = progress.get(f"{key}_request_id")
    if not request_id:
        request_id = str(uuid.uuid4())
        progress[f"{key}_request_id"] = request_id
        _save_progress(order, progress)
    return request_id


def _save_progress(order: Order, progress: dict[str, Any], **fields: Any) -> None:
    """Saves a step's outcome; updated_at moves too, as the heartbeat the resume pass watches."""
    fields.setdefault("updated_at", timezone.now())
    order.progress = progress
    for name, value in fields.items():
        setattr(order, name, value)
    Order.objects.filter(pk=order.pk).update(progress=progress, **fields)


def _failure_reason(error: PermanentPartnerCenterError) -> str:
    known = FAILURE_MESSAGES.get(str(error.code))
    reference = f" (Microsoft reference {error.request_id})" if error.request_id else ""
    return (known or "Microsoft refused the order. Please contact us; we have the details.") + reference


def order_claim(*, order_id: int) -> bool:
    """Moves a submitted order to provisioning once, so two workers do not both start it."""
    return bool(
        Order.objects.filter(pk=order_id, status=Order.Status.SUBMITTED).update(
            status=Order.Status.PROVISIONING, updated_at=timezone.now()
        )
    )


def _create_customer(order: Order) -> str:
    profile = order.billing_profile
    request_id = _progress_step(order, "customer")
    created = partner_center().create_customer(
        NewCustomer(
            domain=f"{order.domain_prefix}.onmicrosoft.com",
            company_name=profile["company_name"],
            email=profile.get("email") or order.agreement_email,
            first_name=profile.get("first_name") or order.agreement_first_name,
            last_name=profile.get("last_name") or order.agreement_last_name,
            phone_number=profile.get("phone") or None,
            address=Address(
                country=profile["country"],
                city=profile.get("city", ""),
                state=profile.get("state") or None,
                address_line1=profile.get("address_line1", ""),
                address_line2=profile.get("address_line2") or None,
                postal_code=profile.get("postal_code") or None,
            ),
            associated_partner_id=order.reseller_tenant_id or None,
        ),
        request_id=request_id,
    )
    progress = dict(order.progress, customer_created=True)
    _save_progress(
        order,
        progress,
        customer_tenant_id=created.tenant_id,
        admin_user_name=created.admin_user_name or "",
        admin_password=seal(created.admin_password or ""),
    )
    trust.tenant_hold(
        tenant_id=created.tenant_id,
        organization_id=order.organization_id,
        source=TenantHolding.Source.NEW_TENANT_ORDER,
    )
    signals.new_tenant_created.send(
        sender=Order, order=order, tenant_id=created.tenant_id, domain=created.domain
    )
    return created.tenant_id


AGREEMENT_TEMPLATE_CACHE_SECONDS = 3600


def _customer_agreement_template_id() -> str:
    """Microsoft's current Customer Agreement template: read from the API, kept an hour (it changes rarely)."""
    from django.core.cache import cache

    key = f"csp:mca-template:{settings.PARTNER_CENTER_MODE}"
    template_id = cache.get(key)
    if template_id is None:
        template_id = partner_center().customer_agreement_template_id()
        cache.set(key, template_id, AGREEMENT_TEMPLATE_CACHE_SECONDS)
    return template_id


def _accept_agreement(order: Order) -> None:
    client = partner_center()
    request_id = _progress_step(order, "agreement")
    client.accept_customer_agreement(
        order.customer_tenant_id,
        contact=AgreementContact(
            first_name=order.agreement_first_name,
            last_name=order.agreement_last_name,
            email=order.agreement_email,
            phone_number=order.agreement_phone or None,
        ),
        template_id=_customer_agreement_template_id(),
        date_agreed=order.agreement_accepted_at,
        request_id=request_id,
    )
    _save_progress(order, dict(order.progress, agreement_accepted=True))


class OfferUnavailable(Exception):
    """Microsoft no longer sells a line's SKU with its term and billing cycle to this customer."""


def _cart_lines_today(order: Order) -> list[CartLine]:
    """Each line as Microsoft sells it to this customer today: the customer's availabilities for the SKU (their
    ids are reissued, so never the one the catalog saw), the chosen term and billing cycle checked against them,
    and the attestation the SKU enforces. The order keeps the price the buyer saw."""
    client = partner_center()
    cart_lines = []
    for line in order.lines.select_related("product"):
        product = line.product
        availabilities = client.customer_availabilities(
            order.customer_tenant_id, product.product_id, product.sku_id, segment=product.segment
        )
        today = next(
            (
                a
                for a in availabilities
                if a.is_purchasable and a.allows(line.term_duration, line.billing_cycle)
            ),
            None,
        )
        if today is None:
            raise OfferUnavailable(
                f"Microsoft no longer sells {line.product_name} with a {line.term_duration} term billed "
                f"{line.billing_cycle} to this customer. Please choose another term or billing plan."
            )
        sku = client.customer_sku(order.customer_tenant_id, product.product_id, product.sku_id)
        if line.catalog_item_id != today.catalog_item_id:
            line.catalog_item_id = today.catalog_item_id
            line.save(update_fields=["catalog_item_id"])
        cart_lines.append(
            CartLine(
                catalog_item_id=today.catalog_item_id,
                quantity=line.quantity,
                billing_cycle=line.billing_cycle,
                term_duration=line.term_duration,
                partner_id_on_record=order.partner_mpn_id or None,
                attestation_accepted=sku.enforce_attestation,
            )
        )
    return cart_lines


def _cart_line_failure(order: Order, errors: tuple[CartLineError, ...]) -> str:
    """Microsoft's objection to a cart line, in the buyer's terms (a seat cap says how many are left)."""
    lines = list(order.lines.all())
    first = errors[0]
    line = lines[first.line_id] if first.line_id is not None and 0 <= first.line_id < len(lines) else None
    name = line.product_name if line else "a product"
    if first.available_quantity is not None:
        return (
            f"Microsoft limits how many licences of {name} one customer may hold, across all partners: "
            f"{first.available_quantity} more can be bought for this customer. Order {first.available_quantity} "
            "or fewer, or contact us."
        )
    return f"Microsoft did not accept {name} in this order: {first.description or 'no reason given'}."


def _cart_and_checkout(order: Order) -> None:
    client = partner_center()
    progress = dict(order.progress)
    if not progress.get("cart_id"):
        try:
            lines = _cart_lines_today(order)
        except OfferUnavailable as unavailable:
            _save_progress(order, progress, status=Order.Status.FAILED, failure_reason=str(unavailable))
            return
        request_id = _progress_step(order, "cart")
        cart = client.create_cart(order.customer_tenant_id, lines, request_id=request_id)
        progress = dict(order.progress, cart_id=cart.id)
        if cart.line_errors:
            reason = _cart_line_failure(order, cart.line_errors)
            _save_progress(order, progress, status=Order.Status.FAILED, failure_reason=reason)
            return
        _save_progress(order, progress)
    request_id = _progress_step(order, "checkout")
    result = client.checkout_cart(order.customer_tenant_id, order.progress["cart_id"], request_id=request_id)
    progress = dict(order.progress, checked_out=True)
    if result.errors:
        first = result.errors[0]
        reason = (
            FAILURE_MESSAGES.get(str(first.code))
            or f"Microsoft could not fulfil part of the order: {first.description}"
        )
        _record_microsoft_orders(order, result.orders)
        progress["microsoft_orders"] = _orders_summary(result.orders)
        _save_progress(order, progress, status=Order.Status.FAILED, failure_reason=reason)
        return
    _settle(order, progress, result.orders)


# Fulfilment: Microsoft may answer the checkout with orders still "pending" ------------------------------------

FULFILLED = {"completed"}
CANCELLED = {"cancelled", "canceled", "failed"}
FULFILMENT_FIRST_CHECK_SECONDS = 15
FULFILMENT_MAX_INTERVAL_SECONDS = 30 * 60
CANCELLED_REASON = "Microsoft cancelled the order after accepting it. Please contact us: we have its details and can place it again."


def _orders_summary(orders: tuple[PartnerOrder, ...] | list[PartnerOrder]) -> list[dict[str, Any]]:
    return [{"id": o.id, "status": o.status} for o in orders]


def _record_microsoft_orders(order: Order, orders: tuple[PartnerOrder, ...] | list[PartnerOrder]) -> None:
    """Keeps on each order line the subscription Microsoft created for it, and warns when Microsoft kept another
    partner of record than the reseller's MPN ID (the reseller would get no credit)."""
    items = [item for microsoft_order in orders for item in microsoft_order.line_items]
    for item in items:
        if order.partner_mpn_id and item.partner_id_on_record not in (None, "", order.partner_mpn_id):
            logger.warning(
                "Order %s: Microsoft recorded partner %s instead of MPN ID %s",
                order.number,
                item.partner_id_on_record,
                order.partner_mpn_id,
            )
    for line in order.lines.all():
        item = _item_for(line.catalog_item_id, items)
        if item is not None and item.subscription_id and item.subscription_id != line.subscription_id:
            line.subscription_id = item.subscription_id[:64]
            line.save(update_fields=["subscription_id"])


def _item_for(catalog_item_id: str, items: list[PartnerOrderLine]) -> PartnerOrderLine | None:
    """Microsoft names the line by its offer: the whole catalog item id, or its product and SKU."""
    wanted = catalog_item_id.lower()
    for item in items:
        offer = (item.offer_id or "").lower()
        if offer and (offer == wanted or wanted.startswith(offer + ":")):
            return item
    return None


def _settle(
    order: Order, progress: dict[str, Any], orders: tuple[PartnerOrder, ...] | list[PartnerOrder]
) -> None:
    """Completed once every Microsoft order is; failed if Microsoft cancelled one; otherwise checked again later."""
    _record_microsoft_orders(order, orders)
    progress = dict(progress, microsoft_orders=_orders_summary(orders))
    statuses = {(o.status or "completed").lower() for o in orders}
    if statuses & CANCELLED:
        _save_progress(order, progress, status=Order.Status.FAILED, failure_reason=CANCELLED_REASON)
    elif statuses <= FULFILLED:
        progress.pop("fulfilment_next_check", None)
        _save_progress(order, progress, status=Order.Status.COMPLETED, completed_at=timezone.now())
    else:
        checks = int(progress.get("fulfilment_checks", 0))
        delay = min(FULFILMENT_FIRST_CHECK_SECONDS * 2**checks, FULFILMENT_MAX_INTERVAL_SECONDS)
        progress["fulfilment_next_check"] = (timezone.now() + timedelta(seconds=delay)).isoformat(
            timespec="microseconds"
        )
        _save_progress(order, progress, updated_at=timezone.now())


def _follow_fulfilment(order: Order) -> None:
    """Asks Microsoft again about the orders it left pending (one call per pending order)."""
    client = partner_center()
    orders = []
    for known in order.progress.get("microsoft_orders") or []:
        if (known.get("status") or "completed").lower() in FULFILLED:
            orders.append(PartnerOrder(id=known["id"], status=known.get("status")))
        else:
            orders.append(client.get_order(order.customer_tenant_id, known["id"]))
    progress = dict(order.progress, fulfilment_checks=int(order.progress.get("fulfilment_checks", 0)) + 1)
    _settle(order, progress, orders)


def _fulfilment_check_later(order: Order, error: PermanentPartnerCenterError) -> None:
    """An accepted order Microsoft would not let us read (403, 404): kept as accepted, the error kept for support,
    and checked again later with the same back-off as a pending one."""
    order.refresh_from_db()
    checks = int(order.progress.get("fulfilment_checks", 0)) + 1
    delay = min(FULFILMENT_FIRST_CHECK_SECONDS * 2**checks, FULFILMENT_MAX_INTERVAL_SECONDS)
    now = timezone.now()
    progress = dict(
        order.progress,
        fulfilment_checks=checks,
        fulfilment_next_check=(now + timedelta(seconds=delay)).isoformat(timespec="microseconds"),
    )
    reference = f" (MS-RequestId {error.request_id})" if error.request_id else ""
    _save_progress(order, progress, last_error=f"{now:%Y-%m-%d %H:%M:%S} UTC: {error}{reference}"[:2000])


def awaiting_fulfilment(order: Order) -> bool:
    return order.status == Order.Status.PROVISIONING and bool(order.progress.get("checked_out"))


def orders_follow_fulfilment_pass(*, limit: int = 200) -> int:
    """The worker's pass over orders Microsoft has accepted but not fulfilled yet, each when its check is due."""
    now = timezone.now()
    followed = 0
    candidates = Order.objects.filter(status=Order.Status.PROVISIONING, progress__checked_out=True).only(
        "pk", "progress", "updated_at"
    )
    # Soonest check first (ISO times in UTC sort as text), so orders due later never crowd out the due ones.
    next_check = KT("progress__fulfilment_next_check")
    for order in candidates.order_by(next_check.asc(nulls_first=True), "pk")[:limit]:
        next_check = order.progress.get("fulfilment_next_check")
        if next_check and datetime.fromisoformat(next_check) > now:
            continue
        if not _claim_for_follow_up(order):
            continue  # another pass has it
        followed += 1
        try:
            order_provision(order_id=order.pk)
        except TransientPartnerCenterError as error:
            logger.warning("Order %s: Microsoft unavailable while following fulfilment: %s", order.pk, error)
            order_retry_scheduled(
                order_id=order.pk, error=error, delay_seconds=FULFILMENT_FIRST_CHECK_SECONDS
            )
    return followed


def _claim_for_follow_up(order: Order) -> bool:
    """Optimistic claim on `updated_at`: of two passes that read the same row, only one follows it up."""
    return bool(
        Order.objects.filter(
            pk=order.pk,
            status__in=[Order.Status.SUBMITTED, Order.Status.PROVISIONING],
            updated_at=order.updated_at,
        ).update(updated_at=timezone.now())
    )


def order_provision(*, order_id: int) -> Order:
    """Runs the remaining steps for one order; transient Partner Center errors propagate for the task to retry."""
    order = Order.objects.select_related("authorization").get(pk=order_id)
    if order.is_finished:
        return order
    Order.objects.filter(pk=order_id).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    if order.status == Order.Status.SUBMITTED:
        order_claim(order_id=order_id)
        order.refresh_from_db()
    problem = None if order.progress.get("checked_out") else trust.order_trust_problem(order=order)
    if problem is not None:
        logger.error("Order %s refused before reaching Microsoft: %s", order.number, problem)
        _save_progress(
            order,
            dict(order.progress),
            status=Order.Status.FAILED,
            failure_reason="This order could not be placed: the customer's Microsoft tenant is not confirmed as "
            "yours. Please contact us.",
        )
        order.refresh_from_db()
        transaction.on_commit(lambda: _order_finished(order.pk))
        return order
    new_customer = order.tenant == Order.Tenant.NEW and not order.customer_tenant_id
    if new_customer and not billing_address_complete(order.billing_profile):
        # Placed without the address Microsoft creates a customer with (Place order refuses such orders since).
        _save_progress(
            order, dict(order.progress), status=Order.Status.FAILED, failure_reason=ADDRESS_MISSING
        )
        order.refresh_from_db()
        transaction.on_commit(lambda: _order_finished(order.pk))
        return order
    if not connect.partner_center_connected():
        return _order_waits_for_connection(order)
    try:
        if order.tenant == Order.Tenant.NEW and not order.customer_tenant_id:
            _create_customer(order)
        if not order.progress.get("agreement_accepted"):
            _accept_agreement(order)
        if not order.progress.get("checked_out"):
            _cart_and_checkout(order)
        elif awaiting_fulfilment(order):
            _follow_fulfilment(order)
    except PartnerCenterNotConnected:
        return _order_waits_for_connection(order)
    except PermanentPartnerCenterError as error:
        if (error.status is not None and 200 <= error.status < 300) or str(error.code) in IN_PROGRESS_CODES:
            # Microsoft acted but its answer was unreadable, or it is still working on an earlier attempt:
            # re-sending the same MS-RequestId later is safe, so retry.
            raise TransientPartnerCenterError(
                error.message, status=error.status, code=error.code, request_id=error.request_id
            ) from error
        if order.progress.get("checked_out"):
            # Microsoft placed this order (and bills it): a refusal to read it back is not a refused order.
            logger.warning("Order %s: Microsoft refused a fulfilment check: %s", order.number, error)
            _fulfilment_check_later(order, error)
            return order
        logger.warning("Order %s refused by Partner Center: %s", order.number, error)
        _save_progress(
            order, dict(order.progress), status=Order.Status.FAILED, failure_reason=_failure_reason(error)
        )
    # This attempt got its answers from Microsoft: no retry is waiting (the last error stays for support).
    Order.objects.filter(pk=order_id, next_attempt_at__isnull=False).update(next_attempt_at=None)
    order.refresh_from_db()
    if order.is_finished:
        transaction.on_commit(lambda: _order_finished(order.pk))
    return order


def _order_waits_for_connection(order: Order) -> Order:
    """Live mode lost its App+User sign-in (staff are emailed): the order keeps what the buyer paid for and waits,
    without spending its retries; beat's resume pass tries it again once an admin has connected."""
    order_retry_scheduled(
        order_id=order.pk,
        error=PartnerCenterNotConnected(connect.ORDERING_PAUSED_MESSAGE),
        delay_seconds=settings.ORDER_STALL_SECONDS,
    )
    order.refresh_from_db()
    return order


def _order_finished(order_id: int) -> None:
    """After commit, announced once or more: the buyer's email and event notifications each keep one per order."""
    signals.announce(signals.order_finished, sender=Order, order_id=order_id)


def order_retry_scheduled(*, order_id: int, error: Exception, delay_seconds: float) -> None:
    """Records that Microsoft did not answer and when the worker tries again: the buyer's page and support see it."""
    request_id = getattr(error, "request_id", None)
    reference = f" (MS-RequestId {request_id})" if request_id else ""
    now = timezone.now()
    Order.objects.filter(pk=order_id, status__in=[Order.Status.SUBMITTED, Order.Status.PROVISIONING]).update(
        last_error=f"{now:%Y-%m-%d %H:%M:%S} UTC: {error}{reference}"[:2000],
        next_attempt_at=now + timedelta(seconds=delay_seconds),
        updated_at=now,
    )


def orders_resume_stalled_pass(*, limit: int = 50) -> list[int]:
    """The orders no worker has advanced for ORDER_STALL_SECONDS, as when a worker died holding one, claimed for
    the task to queue again.

    1. Candidates: submitted or provisioning, not checked out yet (the fulfilment pass follows those), untouched
       since the cutoff and with no retry planned after it.
    2. Each is claimed by a conditional UPDATE on updated_at, so two passes never both resume one order.
    3. The task queues each claimed order again; its saved MS-RequestIds make the rerun safe at Microsoft, even
       when the worker thought dead is only slow (both send the same request ids, Microsoft answers both with one
       result).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.ORDER_STALL_SECONDS)
    stalled = (
        Order.objects.filter(
            status__in=[Order.Status.SUBMITTED, Order.Status.PROVISIONING], updated_at__lt=cutoff
        )
        .filter(progress__checked_out__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
        .only("pk", "number", "updated_at")
        .order_by("updated_at")[:limit]
    )
    resumed = []
    for order in stalled:
        if not _claim_for_follow_up(order):
            continue  # another pass, or the worker itself, moved it meanwhile
        logger.warning("Order %s made no progress since %s: queued again", order.number, order.updated_at)
        resumed.append(order.pk)
    return resumed


def order_give_up(*, order_id: int, reason: str) -> str:
    """After the last retry: the buyer is told in their terms; what they paid for is kept for support to resume.

    Returns the order's status: "failed", or what it was when Microsoft had (or may have) accepted it."""
    order = Order.objects.only("status", "progress").get(pk=order_id)
    if order.is_finished or order.progress.get("checked_out"):
        return (
            order.status
        )  # an order Microsoft accepted is not failed by an outage: the fulfilment pass follows it
    if order.progress.get("checkout_request_id"):
        # The checkout was sent and never answered: Microsoft may have placed the order, so it is not failed as
        # "nothing was charged" (the buyer would order again). It keeps waiting on Microsoft; beat's resume pass
        # sends the same MS-RequestId again, which Microsoft answers with the one order.
        Order.objects.filter(pk=order_id, next_attempt_at__isnull=True).update(next_attempt_at=timezone.now())
        return order.status
    updated = Order.objects.filter(
        pk=order_id, status__in=[Order.Status.SUBMITTED, Order.Status.PROVISIONING]
    ).update(status=Order.Status.FAILED, failure_reason=reason)
    if not updated:  # finished in between by another worker
        return Order.objects.values_list("status", flat=True).get(pk=order_id)
    transaction.on_commit(lambda: _order_finished(order_id))
    return Order.Status.FAILED.value
