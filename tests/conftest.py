"""Shared fixtures: fixed personas, the two settings rows, and the rules for tests that need real services."""

import os

import pytest
from django.conf import settings

from csp.models import CloudServicesSettings, GdapRoleTemplate
from csp.partner_center.client import GLOBAL_ADMINISTRATOR_ROLE_ID
from storefront.celery import app as celery_app
from storefront.checkout.services import checkout_draft_get
from storefront.configuration.models import StorefrontConfiguration
from tests.factories import (
    DirectCustomerFactory,
    EndCustomerFactory,
    OrganizationFactory,
    ProductFactory,
    TenantAuthorizationFactory,
    UserFactory,
)
from tests.sandbox_ids import CONTOSO_TENANT

pytest_plugins = ["tests.pc_sandbox"]


def pytest_configure(config: pytest.Config) -> None:
    """Parallel workers (pytest -n) each get their own file cache, so one worker's cache.clear() spares the others."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    cache = settings.CACHES["default"]
    if worker and cache["BACKEND"].endswith("FileBasedCache"):
        cache["LOCATION"] = f"{cache['LOCATION']}-{worker}"


def services_required() -> bool:
    """CI sets STOREFRONT_REQUIRE_SERVICES=1: a missing service is then a failure, never a silent skip."""
    return os.environ.get("STOREFRONT_REQUIRE_SERVICES") == "1"


def _missing_service(reason: str) -> None:
    if services_required():
        pytest.fail(
            f"{reason} (STOREFRONT_REQUIRE_SERVICES=1, so this is a failure, not a skip)", pytrace=False
        )
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            _missing_service(f"needs PostgreSQL: set DATABASE_URL=postgres://... (the database is {engine})")
    if item.get_closest_marker("redis") and not settings.REDIS_URL.startswith(("redis://", "rediss://")):
        _missing_service("needs Redis: set REDIS_URL=redis://...")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs seconds per user; tests only need passwords to check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_settings_rows():
    """Settings rows are kept briefly in process memory; each test starts from what its database holds."""
    from common.singleton import forget_loaded_settings

    forget_loaded_settings()
    yield
    forget_loaded_settings()


@pytest.fixture
def reseller(db):
    """The reseller organisation that `owner` and `teammate` belong to."""
    return OrganizationFactory(company_name="Fabrikam IT Services", mpn_id="1234567")


@pytest.fixture
def owner(reseller):
    return UserFactory(email="owner@fabrikam.example", organization=reseller)


@pytest.fixture
def teammate(reseller):
    return UserFactory(email="teammate@fabrikam.example", organization=reseller)


@pytest.fixture
def outsider(db):
    """A user of another reseller: must never see the owner's customers, authorizations or orders."""
    other = OrganizationFactory(company_name="Adatum Cloud Partners", mpn_id="2345678")
    return UserFactory(email="outsider@adatum.example", organization=other)


@pytest.fixture
def direct_user(db):
    organization = DirectCustomerFactory(company_name="Woodgrove Bank")
    return UserFactory(email="buyer@woodgrove.example", organization=organization)


@pytest.fixture
def staff_user(db):
    """A distributor admin (staff and superuser, no organisation)."""
    return UserFactory(email="admin@northwind.example", staff=True)


@pytest.fixture
def admin_client(client, staff_user):
    """The Django admin as the distributor's staff (tests/accounts, tests/billing, tests/csp)."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def storefront_config(db) -> StorefrontConfiguration:
    return StorefrontConfiguration.load()


@pytest.fixture
def cloud_settings(db) -> CloudServicesSettings:
    return CloudServicesSettings.load()


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
    """Fabrikam's end-customer whose tenant (contoso.onmicrosoft.com, default contoso.com) exists at the sandbox."""
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
    """The direct customer's draft with a product in the cart and the customer step done."""
    draft = checkout_draft_get(user=direct_user)
    draft.lines = {str(product.pk): 2}
    draft.customer_confirmed = True
    draft.save()
    return draft


@pytest.fixture
def verified_contoso(reseller, contoso):
    """Contoso's tenant, verified for Fabrikam: a tenant the reseller may ask admin access (GDAP) for."""
    return TenantAuthorizationFactory(
        organization=reseller, end_customer=contoso, verified=True, customer_tenant_id=CONTOSO_TENANT
    )


@pytest.fixture
def helpdesk():
    """The least-privilege GDAP role template the migrations seed."""
    return GdapRoleTemplate.objects.get(name="Helpdesk (least privilege)")


@pytest.fixture
def global_admin():
    return GdapRoleTemplate.objects.create(
        name="Global administration",
        roles=[{"name": "Global Administrator", "role_definition_id": GLOBAL_ADMINISTRATOR_ROLE_ID}],
    )
