"""A product withdrawn from sale after the buyer chose it: named on the cart with a way to remove it, refused at
Checkout and Place order, never silently dropped nor ordered (the API side is in tests/api/test_orders.py)."""

import pytest
from django.urls import reverse

from billing.models import Order
from storefront.catalog.models import Product
from storefront.checkout import services
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

AGREEMENT = {"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", "accepted": "on"}


@pytest.fixture
def retired(owner_draft):
    """A second product in the owner's cart, withdrawn from sale once chosen."""
    product = ProductFactory(name="Office 365 E1 (retired)")
    owner_draft.lines = {**owner_draft.lines, str(product.pk): 2}
    owner_draft.save()
    Product.objects.filter(pk=product.pk).update(is_active=False)
    return product


def message_for(product) -> str:
    return f"{product.name} (product {product.pk}) is no longer sold: remove it to continue."


def test_the_cart_reading_keeps_withdrawn_unknown_and_unqualified_products_apart(owner, product):
    retired = ProductFactory(is_active=False)
    education = ProductFactory(segment="education")
    cart = services.cart_contents(
        {str(product.pk): 3, str(retired.pk): 1, str(education.pk): 2, "999999": 4},
        organization=owner.organization,
    )
    assert [(line.product, line.quantity) for line in cart.lines] == [(product, 3)]
    assert [(gone.product_id, gone.name, gone.quantity) for gone in cart.withdrawn] == [
        (str(retired.pk), retired.name, 1),
        (str(education.pk), education.name, 2),
        ("999999", "", 4),
    ]
    assert cart.withdrawn_message.endswith("are no longer sold: remove them to continue.")
    assert "Product 999999" in cart.withdrawn_message


def test_the_cart_names_the_withdrawn_product_and_removes_it_when_asked(
    client, owner, owner_draft, product, retired
):
    client.force_login(owner)
    page = client.get(reverse("checkout:cart")).content.decode()
    assert message_for(retired) in page
    assert f'name="remove" value="{retired.pk}"' in page
    assert "Microsoft 365 Business Basic" in page  # the lines still sold stay, with their quantities

    response = client.post(reverse("checkout:cart"), {"remove": str(retired.pk)})
    assert response["Location"] == reverse("checkout:cart")
    owner_draft.refresh_from_db()
    assert owner_draft.lines == {str(product.pk): 3}
    assert "no longer sold" not in client.get(reverse("checkout:cart")).content.decode()


def test_proceeding_to_checkout_is_sent_back_to_the_cart_with_the_product_named(
    client, owner, owner_draft, retired
):
    client.force_login(owner)
    response = client.post(reverse("checkout:cart"), {"action": "checkout"})
    response = client.get(response["Location"])
    assert response["Location"] == reverse("checkout:cart")
    page = client.get(response["Location"]).content.decode()
    assert page.count(message_for(retired)) == 2  # the guard's message and the cart's own section


def test_checkout_and_place_order_refuse_a_product_withdrawn_after_service_details(
    client, owner, owner_draft, product, sandbox
):
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details"), {"domain_prefix": "tailwindnew42", "mpn_id": "1234567"}
    )
    assert response["Location"] == reverse("checkout:review")
    product.is_active = False
    product.save()  # as staff withdraw it in admin

    for step in ("checkout:service_details", "checkout:review"):
        data = (
            AGREEMENT
            if step == "checkout:review"
            else {"domain_prefix": "tailwindnew42", "mpn_id": "1234567"}
        )
        response = client.post(reverse(step), data)
        assert response["Location"] == reverse("checkout:cart"), step
    assert message_for(product) in client.get(reverse("checkout:cart")).content.decode()
    assert not Order.objects.exists()


def test_place_order_itself_refuses_what_the_guard_did_not_see(owner, owner_draft, retired, sandbox):
    """The service refuses on its own (a product withdrawn between the guard and the order), naming it."""
    owner_draft.domain_prefix = "tailwindnew42"
    owner_draft.mpn_id = "1234567"
    owner_draft.save()
    agreement = services.AgreementAcceptance(True, "Jane", "Doe", "jane@contoso.example")
    with pytest.raises(services.ProductWithdrawn) as refused:
        services.checkout_place_order(draft=owner_draft, agreement=agreement)
    assert refused.value.message == message_for(retired)
    assert refused.value.fields == {"lines": [message_for(retired)]}
    assert not Order.objects.exists()


def test_adding_a_withdrawn_or_unknown_product_names_it(client, owner, owner_draft):
    """Add to cart on a catalog page left open while staff withdrew the product: the buyer is told which one."""
    retired = ProductFactory(name="Office 365 E1 (retired)", is_active=False)
    client.force_login(owner)
    for product_id, named in (
        (retired.pk, f"{retired.name} (product {retired.pk})"),
        (999999, "Product 999999"),
    ):
        response = client.post(
            reverse("checkout:cart_add", args=[product_id]), {"quantity": "4"}, follow=True
        )
        assert f"{named} is no longer sold" in response.content.decode()
    owner_draft.refresh_from_db()
    assert str(retired.pk) not in owner_draft.lines
