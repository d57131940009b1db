from django.urls import reverse

from billing.models import Order
from tests.pc_sandbox import accept_invitation, sandbox_state

__all__ = ["accept_invitation", "sandbox_state"]

# The Review step's form: a named customer contact accepted the Microsoft Customer Agreement.
AGREEMENT = {"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", "accepted": "on"}


# A new end-customer as the Customer step posts it (prefix "new"), with a valid US billing address.
NEW_CUSTOMER = {
    "end_customer": "new",
    "new-company_name": "Tailwind Traders",
    "new-first_name": "Sam",
    "new-last_name": "Smith",
    "new-email": "sam@tailwind.example",
    "new-address_line1": "1 Main St",
    "new-city": "Redmond",
    "new-state": "WA",
    "new-postal_code": "98052",
    "new-country": "US",
}
ADDRESS_FIELDS = ("new-address_line1", "new-city", "new-state", "new-postal_code", "new-country")


def submit_new_tenant_order(client, owner, prefix: str, capture) -> tuple[Order, list]:
    """Service Details with a free prefix, then Place order, as the owner's browser does; the worker's task is
    left in the captured on-commit callbacks (returned with the order) for the test to run."""
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details"), {"domain_prefix": prefix, "mpn_id": "1234567"}
    )
    assert response["Location"] == reverse("checkout:review")
    with capture() as callbacks:
        client.post(reverse("checkout:review"), AGREEMENT)
    return Order.objects.get(), callbacks
