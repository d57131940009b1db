import pytest
import requests

from storefront.celery import app as celery_app
from storefront.checkout.services import checkout_draft_get
from tests.factories import EndCustomerFactory, ProductFactory

FABRIKAM_TENANT = "22222222-2222-4222-8222-222222222222"
CONTOSO_TENANT = "33333333-3333-4333-8333-000000000001"


@pytest.fixture
def eager_worker(settings):
    """Runs the worker's tasks inline, so a test sees the order placed with the sandbox."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def product(db):
    return ProductFactory(name="Microsoft 365 Business Basic", price="6.00")


@pytest.fixture
def contoso(reseller):
    return EndCustomerFactory(
        reseller=reseller, company_name="Contoso Ltd", first_name="Jane", last_name="Doe"
    )


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


def accept_invitation(server, *, domain: str, reseller_tenant_id: str | None = FABRIKAM_TENANT) -> None:
    """Plays the customer's administrator accepting the invitation in the sandbox."""
    body = {"domain": domain}
    if reseller_tenant_id:
        body["reseller_tenant_id"] = reseller_tenant_id
    requests.post(f"{server.url}/_sandbox/accept", json=body, timeout=10).raise_for_status()


def sandbox_state(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/state", timeout=10).json()
