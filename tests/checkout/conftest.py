import pytest

from storefront.checkout.services import checkout_draft_get
from tests.pc_sandbox import CONTOSO_TENANT, FABRIKAM_TENANT, accept_invitation, sandbox_state

__all__ = ["CONTOSO_TENANT", "FABRIKAM_TENANT", "accept_invitation", "sandbox_state"]


@pytest.fixture
def owner_draft(owner, product, contoso):
    """The owner's draft with a product in the cart and Contoso chosen as the customer."""
    draft = checkout_draft_get(user=owner)
    draft.lines = {str(product.pk): 3}
    draft.end_customer = contoso
    draft.save()
    return draft


@pytest.fixture
def direct_draft(direct_user, product):
    draft = checkout_draft_get(user=direct_user)
    draft.lines = {str(product.pk): 2}
    draft.customer_confirmed = True
    draft.save()
    return draft
