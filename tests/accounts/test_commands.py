"""create_reseller, create_direct_customer and seed_demo: idempotent, and clear when they refuse."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from csp.models import CloudServicesSettings
from storefront.accounts.models import Organization, User
from storefront.catalog.models import CatalogSettings, Product, SegmentMargin
from storefront.configuration.models import StorefrontConfiguration
from storefront.customers.models import EndCustomer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def create_reseller(
    name="Fabrikam IT Services", mpn_id="1234567", email="sales@fabrikam.example", pw="demo12345"
):
    return run("create_reseller", "--name", name, "--mpn-id", mpn_id, "--email", email, "--password", pw)


def test_create_reseller_twice_keeps_one_user_and_one_organisation_with_the_latest_details():
    first = create_reseller()
    second = create_reseller(
        name="Fabrikam IT Services GmbH", mpn_id="7654321", email="Sales@Fabrikam.example"
    )

    assert "Created reseller Fabrikam IT Services (MPN ID 1234567)" in first
    assert "Updated reseller Fabrikam IT Services GmbH (MPN ID 7654321)" in second
    user = User.objects.get()
    organization = Organization.objects.get()
    assert user.email == "sales@fabrikam.example" and user.organization == organization
    assert (organization.kind, organization.company_name, organization.mpn_id) == (
        "reseller",
        "Fabrikam IT Services GmbH",
        "7654321",
    )
    assert user.check_password("demo12345") and not user.is_staff


def test_create_reseller_adds_a_new_user_to_the_reseller_with_the_same_mpn_id():
    create_reseller(email="first@fabrikam.example")
    create_reseller(email="second@fabrikam.example")

    organization = Organization.objects.get()
    assert sorted(organization.users.values_list("email", flat=True)) == [
        "first@fabrikam.example",
        "second@fabrikam.example",
    ]


@pytest.mark.parametrize("mpn_id", ["12a4567", "MPN1234567", "", " ", "1234-567"])
def test_create_reseller_refuses_an_mpn_id_that_is_not_digits(mpn_id):
    with pytest.raises(CommandError, match="MPN ID must be digits only"):
        create_reseller(mpn_id=mpn_id)
    assert not User.objects.exists() and not Organization.objects.exists()


def test_create_reseller_refuses_the_email_of_a_direct_customer(direct_user):
    with pytest.raises(CommandError, match="Woodgrove Bank, a direct customer, not a reseller"):
        create_reseller(email=direct_user.email)
    direct_user.organization.refresh_from_db()
    assert direct_user.organization.kind == "direct"


def test_create_reseller_refuses_the_email_of_staff(staff_user):
    with pytest.raises(CommandError, match="staff user"):
        create_reseller(email=staff_user.email)
    assert not Organization.objects.exists()


def test_create_reseller_refuses_a_weak_password_or_a_bad_email():
    with pytest.raises(CommandError, match="too weak"):
        create_reseller(pw="123")
    with pytest.raises(CommandError, match="not a valid email"):
        create_reseller(email="not-an-email")
    assert not User.objects.exists()


def test_create_direct_customer_twice_keeps_one_user_and_one_organisation():
    args = ["create_direct_customer", "--email", "it@woodgrove.example", "--password", "demo12345"]
    run(*args, "--name", "Woodgrove")
    out = run(*args, "--name", "Woodgrove Bank")

    assert "Updated direct customer Woodgrove Bank with user it@woodgrove.example." in out
    organization = Organization.objects.get()
    assert (organization.kind, organization.company_name, organization.mpn_id) == (
        "direct",
        "Woodgrove Bank",
        "",
    )
    assert User.objects.get().organization == organization


def test_create_direct_customer_refuses_the_email_of_a_reseller_user(owner):
    with pytest.raises(CommandError, match="not a direct customer"):
        run("create_direct_customer", "--name", "X", "--email", owner.email, "--password", "demo12345")


def counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "users": User.objects.count(),
        "organizations": Organization.objects.count(),
        "end_customers": EndCustomer.objects.count(),
        "cloud_settings": CloudServicesSettings.objects.count(),
        "storefront_config": StorefrontConfiguration.objects.count(),
    }


def test_seed_demo_twice_gives_the_same_rows_and_prints_the_logins():
    out = run("seed_demo")
    first = counts()
    run("seed_demo")

    assert (
        counts()
        == first
        == {
            "products": 3080,  # the sandbox's US (440 offers) and DK (2,640 offers in six currencies) price lists
            "users": 3,
            "organizations": 2,
            "end_customers": 2,
            "cloud_settings": 1,
            "storefront_config": 1,
        }
    )
    for text in [
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/admin/",
        "admin@example.com",
        "reseller@example.com",
        "direct@example.com",
        "demo12345",
    ]:
        assert text in out


def test_seed_demo_creates_the_accounts_of_the_demo_data():
    run("seed_demo")

    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser and admin.organization is None
    reseller = User.objects.get(email="reseller@example.com")
    assert reseller.organization.company_name == "Fabrikam IT Services"
    assert reseller.organization.mpn_id == "1234567" and reseller.organization.has_billing_address
    direct = User.objects.get(email="direct@example.com")
    assert direct.organization.company_name == "Woodgrove Bank" and direct.organization.kind == "direct"
    assert direct.organization.has_billing_address
    for user in (admin, reseller, direct):
        assert user.check_password("demo12345")
    customers = EndCustomer.objects.filter(reseller=reseller.organization).order_by("company_name")
    assert [c.company_name for c in customers] == ["Contoso Ltd", "Wingtip Toys"]
    contoso = customers[0]
    assert (contoso.state, str(contoso.country), contoso.first_name) == ("WA", "US", "Megan")
    assert CloudServicesSettings.objects.get().distributor_mpn_id == "5123456"


def test_seed_demo_imports_the_catalog_from_the_sandboxs_price_lists():
    out = run("seed_demo")

    basic = Product.objects.get(
        market="US", product_id="CFQ7TTC0LH18", sku_id="0001", term_duration="P1Y", billing_cycle="annual",
        segment="commercial", currency="USD",
    )  # fmt: skip
    assert (str(basic.price), str(basic.erp_price), basic.max_quantity) == ("72.00", "90.00", 300)
    assert set(Product.objects.filter(market="DK").values_list("currency", flat=True)) == {
        "EUR", "GBP", "SEK", "NOK", "DKK", "CHF",
    }  # fmt: skip
    assert set(Product.objects.values_list("segment", flat=True)) == {
        "commercial",
        "education",
        "nonprofit",
        "government",
    }  # noqa: E501
    assert Product.objects.filter(market="US").values("product_id").distinct().count() >= 30
    assert dict(SegmentMargin.objects.values_list("segment", "margin_percent"))["commercial"] == 12
    assert CatalogSettings.load().market_list == ["DK", "US"]
    assert "Price list US: Imported" in out
    for product in Product.objects.all():
        assert len(product.product_id) == 12 and product.sku_id.isdigit() and len(product.sku_id) == 4


def test_seed_demo_again_keeps_what_the_admin_changed():
    run("seed_demo")
    basic = {"market": "US", "product_id": "CFQ7TTC0LH18", "sku_id": "0001", "term_duration": "P1Y",
             "billing_cycle": "annual", "segment": "commercial"}  # fmt: skip
    Product.objects.filter(**basic).update(price="5.50")
    SegmentMargin.objects.filter(segment="commercial").update(margin_percent=20)
    reseller = User.objects.get(email="reseller@example.com")
    reseller.set_password("changed-by-the-reseller-1")
    reseller.save()

    run("seed_demo")

    assert str(Product.objects.get(**basic).price) == "5.50"  # the same file is skipped by its hash
    assert SegmentMargin.objects.get(segment="commercial").margin_percent == 20
    reseller.refresh_from_db()
    assert reseller.check_password("changed-by-the-reseller-1")


def test_seed_demo_refuses_when_the_demo_admin_email_is_a_buyer():
    UserFactory(email="admin@example.com")
    with pytest.raises(CommandError, match="cannot be the demo admin"):
        run("seed_demo")


@override_settings(PRODUCTION=True)
def test_seed_demo_refuses_to_publish_demo_passwords_in_production():
    with pytest.raises(CommandError, match="DJANGO_ENV=production"):
        run("seed_demo")
    assert not User.objects.exists()
    run("seed_demo", "--allow-production")
    assert User.objects.filter(email="admin@example.com").exists()
