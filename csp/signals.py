"""What csp announces: to the floors above, so that csp never writes (or imports) storefront code itself, and
within csp where the lower module must not import the upper one.

The storefront listens: it remembers a verified tenant on the end-customer, and its event notifications
(storefront/events/) tell the reseller's own systems.
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A tenant authorization became verified; kwargs: authorization.
authorization_verified = Signal()

# A new-tenant order created the customer's tenant at Microsoft; kwargs: order, tenant_id, domain.
new_tenant_created = Signal()

# A pending authorization expired; kwargs: authorization.
authorization_expired = Signal()

# An order finished, completed or failed (after commit; perhaps twice, so listeners keep one); kwargs: order_id.
order_finished = Signal()

# A GDAP relationship became active (inside the transaction that records it); kwargs: gdap_request_id.
gdap_active = Signal()


# Microsoft refused a working App+User sign-in (csp/connect.py marks the connection broken); kwargs: reason.
partner_center_sign_in_refused = Signal()


def announce(signal: Signal, *, sender: type | None, **kwargs) -> None:
    """Tells the listeners; a listener's failure is logged and never undoes or stops csp's own work."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error("A listener of %s failed for %s", receiver, kwargs, exc_info=result)
