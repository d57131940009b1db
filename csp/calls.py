"""Partner Center's failures, said in the buyer's terms: the services' one way to call the client."""

import logging
from collections.abc import Callable
from typing import TypeVar

from common.errors import StorefrontError
from csp.errors import PartnerCenterUnavailable
from csp.partner_center.exceptions import PartnerCenterError, TransientPartnerCenterError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def unavailable(what: str, error: PartnerCenterError) -> PartnerCenterUnavailable:
    logger.warning("Partner Center unavailable while %s: %s", what, error)
    return PartnerCenterUnavailable(
        f"We could not reach Microsoft to {what} just now. Please try again in a minute; nothing you entered "
        "has been lost."
    )


def permanent(what: str, error: PartnerCenterError) -> StorefrontError:
    logger.error("Partner Center refused while %s: %s", what, error)
    return PartnerCenterUnavailable(
        f"Microsoft could not {what} (reference {error.request_id or 'unknown'}). Please try again later or "
        "contact us with this reference."
    )


def microsoft_call(what: str, fn: Callable[..., T], *args, **kwargs) -> T:
    """Runs one Partner Center operation, turning its failures into messages a buyer understands."""
    try:
        return fn(*args, **kwargs)
    except TransientPartnerCenterError as error:
        raise unavailable(what, error) from error
    except PartnerCenterError as error:
        raise permanent(what, error) from error
