"""A new tenant's billing address, checked with Microsoft before it is sent (Partner Center validates it again)."""

import logging

from csp.connection import partner_center
from csp.partner_center.exceptions import PartnerCenterError
from csp.partner_center.schemas import Address

logger = logging.getLogger(__name__)


def _format_address(address) -> str:
    parts = [address.address_line1, address.address_line2, address.city, address.state, address.postal_code]
    return ", ".join(p for p in parts if p) + (f" ({address.country})" if address.country else "")


def billing_address_problem(*, address: dict[str, str]) -> str | None:
    """Microsoft's address validation, so a new tenant is never refused for its address; None when acceptable.

    An address Microsoft could not validate at all (NotValidated), or a Microsoft outage, is not held against the
    buyer: Partner Center validates again when the customer is created.
    """
    try:
        verdict = partner_center().validate_address(
            Address(
                country=address.get("country", ""),
                city=address.get("city", ""),
                state=address.get("state") or None,
                address_line1=address.get("address_line1", ""),
                address_line2=address.get("address_line2") or None,
                postal_code=address.get("postal_code") or None,
            )
        )
    except PartnerCenterError as error:
        logger.warning("Address validation unavailable, accepting the address as entered: %s", error)
        return None
    if verdict.verified or verdict.status == "NotValidated":
        return None
    if verdict.suggested_addresses:
        suggestions = "; ".join(_format_address(a) for a in verdict.suggested_addresses[:3])
        return f"Microsoft could not confirm this address. Did you mean: {suggestions}? Correct the address and continue."
    return "Microsoft could not validate this address. Check the street, city, state and postal code."
