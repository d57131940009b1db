"""The wizard's steps and their pre-conditions: a step that is not ready sends the buyer to the earliest unmet one."""

from __future__ import annotations

from dataclasses import dataclass

from storefront.checkout.models import CheckoutDraft
from storefront.checkout.services import billing_address_missing, draft_cart
from storefront.configuration.context_processors import urls


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    url_name: str


STEPS = (
    Step("cart", "Cart", "checkout:cart"),
    Step("customer", "Customer", "checkout:customer"),
    Step("service_details", "Service Details", "checkout:service_details"),
    Step("review", "Review", "checkout:review"),
)


def _customer_unmet(draft: CheckoutDraft) -> str | None:
    organization = draft.organization
    if organization.is_reseller and draft.end_customer_id is None:
        return "Choose or add the customer you are ordering for."
    if not organization.is_reseller and not draft.customer_confirmed:
        return "Confirm your company details first."
    end_customer = draft.end_customer if organization.is_reseller else None
    if billing_address_missing(organization=organization, end_customer=end_customer):
        return "Microsoft needs the customer's billing address: please complete it."
    return None


def unmet_precondition(draft: CheckoutDraft, step_key: str) -> tuple[Step, str] | None:
    """The earliest step before `step_key` whose pre-condition fails, with the reason to show."""
    order = [s.key for s in STEPS]
    target = order.index(step_key)
    if target >= 1:
        cart = draft_cart(draft)
        if cart.withdrawn:
            return STEPS[0], cart.withdrawn_message
        if not cart.lines:
            return STEPS[0], "Your cart is empty: add a product to start a checkout."
    if target >= 2:
        reason = _customer_unmet(draft)
        if reason:
            return STEPS[1], reason
    if target >= 3 and not draft.service_details_done:
        return STEPS[2], "Complete Service Details and select Checkout first."
    return None


def progress(current: str) -> list[dict]:
    keys = [s.key for s in STEPS]
    index = keys.index(current)
    return [
        {
            "step": step,
            "number": i + 1,
            "state": "done" if i < index else ("current" if i == index else "todo"),
            "url": urls()[step.key] if i < index else "",
        }
        for i, step in enumerate(STEPS)
    ]
