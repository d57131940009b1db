"""The wizard's pages: pre-conditions, server-side re-checks of every rule, idempotent Place order, scoping."""

import pytest
from django.urls import reverse

from billing.models import Order
from csp import authorizations
from csp.models import TenantAuthorization
from storefront.checkout.models import CheckoutDraft
from tests.checkout.conftest import ADDRESS_FIELDS, NEW_CUSTOMER, accept_invitation, sandbox_state
from tests.factories import EndCustomerFactory, ResellerMpnIdFactory
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN, FABRIKAM_TENANT, OUTSIDE_MPN

pytestmark = pytest.mark.django_db

AGREEMENT = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@contoso.example",
    "phone": "",
    "accepted": "on",
}


def service_details_post(client, **fields):
    data = {"domain_prefix": "", "mpn_id": FABRIKAM_MPN, **fields}
    return client.post(reverse("checkout:service_details"), data)


def test_steps_redirect_to_the_earliest_unmet_one(client, owner, product):
    client.force_login(owner)
    response = client.get(reverse("checkout:service_details"))
    assert response.status_code == 302 and response["Location"] == reverse("checkout:cart")
    client.post(reverse("checkout:cart_add", args=[product.pk]), {"quantity": 2})
    response = client.get(reverse("checkout:review"))
    assert response["Location"] == reverse("checkout:customer")


def test_cart_add_update_and_remove(client, owner, product):
    client.force_login(owner)
    client.post(reverse("checkout:cart_add", args=[product.pk]), {"quantity": 2})
    client.post(reverse("checkout:cart_add", args=[product.pk]), {"quantity": 1})
    draft = CheckoutDraft.objects.get(user=owner)
    assert draft.lines == {str(product.pk): 3}
    response = client.post(reverse("checkout:cart"), {f"quantity-{product.pk}": "abc"})
    assert "Enter a whole number" in response.content.decode()
    client.post(reverse("checkout:cart"), {f"quantity-{product.pk}": "0"})
    draft.refresh_from_db()
    assert draft.lines == {}


def test_service_details_shows_both_labels_and_prefills_mpn(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    page = client.get(reverse("checkout:service_details")).content.decode()
    assert "Domain prefix" in page
    assert "My customer is already using Office 365 service and he/she owns this domain" in page
    assert f'value="{FABRIKAM_MPN}"' in page
    assert "MPN ID" in page
    assert 'id="checkout-button"' in page and "disabled" in page.split('id="checkout-button"')[1][:80]


def test_a_fresh_draft_keeps_the_prefilled_mpn_so_the_domain_check_can_enable_checkout(
    client, owner, owner_draft, sandbox
):
    """The MPN ID shown prefilled is the draft's, so typing a free prefix next is enough to enable Checkout."""
    assert owner_draft.mpn_id == ""
    client.force_login(owner)
    client.get(reverse("checkout:service_details"))
    owner_draft.refresh_from_db()
    assert owner_draft.mpn_id == FABRIKAM_MPN
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "freshdraftco", "mpn_id": FABRIKAM_MPN, "check": "domain"},
        HTTP_HX_REQUEST="true",
    )
    fragment = response.content.decode()
    assert "freshdraftco.onmicrosoft.com is available" in fragment
    assert "Enter your MPN ID" not in fragment
    button = fragment.split('id="checkout-button"')[1][:80]
    assert "disabled" not in button


def test_direct_customer_sees_its_own_wording_and_no_mpn(client, direct_user, direct_draft, sandbox):
    client.force_login(direct_user)
    page = client.get(reverse("checkout:service_details")).content.decode()
    assert "I am already using Office 365 service and I own this domain" in page
    assert 'name="mpn_id"' not in page


def test_checkout_refuses_a_taken_prefix_without_the_box(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    response = service_details_post(client, domain_prefix="contoso")
    assert response.status_code == 400
    assert "already registered in Microsoft Portal by another tenant" in response.content.decode()
    owner_draft.refresh_from_db()
    assert not owner_draft.service_details_done
    assert owner_draft.domain_prefix == "contoso"


def test_checkout_refuses_an_mpn_outside_the_network(client, owner, owner_draft, sandbox):
    ResellerMpnIdFactory(organization=owner.organization, mpn_id=OUTSIDE_MPN)
    client.force_login(owner)
    response = service_details_post(client, domain_prefix="brandnewco", mpn_id=OUTSIDE_MPN)
    assert response.status_code == 400
    assert (
        "authorize Northwind Distribution as your Microsoft Cloud Solution Provider"
        in response.content.decode()
    )
    owner_draft.refresh_from_db()
    assert owner_draft.mpn_id == OUTSIDE_MPN and not owner_draft.service_details_done


def test_checkout_refuses_an_unverified_authorization(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    response = service_details_post(client, domain_prefix="contoso", existing_tenant="on")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The authorization has not been completed yet" in page
    assert "invType=IndirectResellerRelationship" in page
    assert client.get(reverse("checkout:review"))["Location"] == reverse("checkout:service_details")


def test_checkout_refuses_missing_billing_address_when_the_admin_switch_is_on(
    client, owner, owner_draft, storefront_config, sandbox
):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    bare = EndCustomerFactory(
        reseller=owner.organization, address_line1="", city="", postal_code="", country="", state=""
    )
    owner_draft.end_customer = bare
    owner_draft.save()
    client.force_login(owner)
    response = service_details_post(client, domain_prefix="brandnewco")
    assert response.status_code == 302 and response["Location"] == reverse("checkout:customer")


def test_customer_step_requires_the_address_only_when_the_switch_is_on(
    client, owner, product, storefront_config
):
    client.force_login(owner)
    client.post(reverse("checkout:cart_add", args=[product.pk]))
    new_customer = {name: value for name, value in NEW_CUSTOMER.items() if name not in ADDRESS_FIELDS}
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    response = client.post(reverse("checkout:customer"), new_customer)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Tailwind Traders" in response.content.decode()
    storefront_config.sub_customers_billing_address = False
    storefront_config.save()
    response = client.post(reverse("checkout:customer"), new_customer)
    assert response["Location"] == reverse("checkout:service_details")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("new-company_name", "LLC", "abbreviation"),
        ("new-company_name", "999", "repeated"),
        ("new-first_name", "J", "single character"),
        ("new-state", "Washington", "two-letter state code"),
        ("new-postal_code", "ABCDE", "ZIP code"),
    ],
)
def test_customer_form_applies_microsofts_data_rules_next_to_the_field(
    client, owner, product, field, value, message
):
    client.force_login(owner)
    client.post(reverse("checkout:cart_add", args=[product.pk]))
    data = {**NEW_CUSTOMER, field: value}
    response = client.post(reverse("checkout:customer"), data)
    assert response.status_code == 200
    assert message in response.content.decode()


def _verified_draft(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    service_details_post(client, domain_prefix="contoso", existing_tenant="on")
    authorization = TenantAuthorization.objects.get(organization=owner.organization)
    accept_invitation(sandbox, domain="contoso.com")
    response = client.post(
        reverse("checkout:authorization_verify", args=[authorization.pk]),
        {"default_domain": "contoso.com"},
        HTTP_HX_REQUEST="true",
    )
    assert "The authorization is verified" in response.content.decode()
    response = service_details_post(client, domain_prefix="contoso", existing_tenant="on")
    assert response["Location"] == reverse("checkout:review")
    return authorization


def test_existing_tenant_order_carries_the_resellers_mpn_as_partner_of_record(
    client, owner, owner_draft, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    _verified_draft(client, owner, owner_draft, sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkout:review"), AGREEMENT)
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.status == "completed"
    assert order.customer_tenant_id == CONTOSO_TENANT
    assert order.partner_mpn_id == FABRIKAM_MPN
    carts = list(sandbox.state.carts.values())
    assert len(carts) == 1
    assert carts[0]["lineItems"][0]["participants"] == [
        {"key": "transaction_reseller", "value": FABRIKAM_MPN}
    ]
    assert sandbox_state(sandbox)["counts"]["orders"] == 1


def test_place_order_twice_makes_one_order(
    client, owner, owner_draft, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    _verified_draft(client, owner, owner_draft, sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("checkout:review"), AGREEMENT)
        second = client.post(reverse("checkout:review"), AGREEMENT)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert len(sandbox.state.orders) == 1


def test_place_order_refuses_a_forged_post_without_the_agreement(client, owner, owner_draft, sandbox):
    _verified_draft(client, owner, owner_draft, sandbox)
    response = client.post(reverse("checkout:review"), {**AGREEMENT, "accepted": ""})
    assert response.status_code == 200
    assert "must accept the Microsoft Customer Agreement" in response.content.decode()
    assert Order.objects.count() == 0


def test_place_order_rechecks_the_authorization_on_submit(client, owner, owner_draft, sandbox):
    authorization = _verified_draft(client, owner, owner_draft, sandbox)
    TenantAuthorization.objects.filter(pk=authorization.pk).update(status="cancelled")
    response = client.post(reverse("checkout:review"), AGREEMENT)
    assert "The authorization has not been completed yet" in response.content.decode()
    assert Order.objects.count() == 0


def test_place_order_rechecks_the_prefix_taken_since_service_details(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    assert service_details_post(client, domain_prefix="latecomer")["Location"] == reverse("checkout:review")
    import requests

    requests.post(f"{sandbox.url}/_sandbox/tenants", json={"domain_prefix": "latecomer"}, timeout=10)
    response = client.post(reverse("checkout:review"), AGREEMENT)
    assert "already registered in Microsoft Portal by another tenant" in response.content.decode()
    assert Order.objects.count() == 0


def test_new_tenant_order_creates_the_customer_with_billing_address_and_associated_partner(
    client, owner, owner_draft, sandbox, eager_worker, storefront_config, django_capture_on_commit_callbacks
):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    client.force_login(owner)
    assert service_details_post(client, domain_prefix="contosonew")["Location"] == reverse("checkout:review")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkout:review"), AGREEMENT)
    order = Order.objects.get()
    assert order.status == "completed", order.failure_reason
    customer = sandbox.state.customers[order.customer_tenant_id]
    assert customer.associated_partner_id == FABRIKAM_TENANT
    address = {k.lower(): v for k, v in customer.billing_profile["defaultAddress"].items()}
    assert address["addressline1"] == owner_draft.end_customer.address_line1
    assert address["city"] == "Redmond"
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "admin@contosonew.onmicrosoft.com" in page
    again = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "admin-password" not in again


def test_outsider_gets_404_for_anothers_authorization_and_order(
    client, owner, outsider, owner_draft, sandbox
):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    client.force_login(outsider)
    for name in ("authorization_verify", "authorization_email"):
        assert client.post(reverse(f"checkout:{name}", args=[authorization.pk]), {}).status_code == 404
    assert client.get(reverse("checkout:authorization_status", args=[authorization.pk])).status_code == 404


def test_teammate_sees_the_organisations_order_and_outsider_does_not(client, owner, teammate, outsider):
    from tests.factories import OrderFactory

    order = OrderFactory(organization=owner.organization, placed_by=owner)
    client.force_login(teammate)
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 404
    assert order.number not in client.get(reverse("orders:list")).content.decode()


def test_htmx_check_answers_with_the_regions_and_keeps_what_was_typed(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "Contoso", "mpn_id": FABRIKAM_MPN, "check": "domain"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert 'id="domain-status"' in page and 'hx-swap-oob="true"' in page
    assert "already registered in Microsoft Portal by another tenant" in page
    owner_draft.refresh_from_db()
    assert owner_draft.domain_prefix == "Contoso"


def test_emailing_the_link_to_the_administrator(client, owner, owner_draft, sandbox, mailoutbox):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    client.force_login(owner)
    url = reverse("checkout:authorization_email", args=[authorization.pk])
    response = client.post(url, {"admin_email": "not-an-email"}, HTTP_HX_REQUEST="true")
    assert "Enter the administrator" in response.content.decode()
    client.post(url, {"admin_email": "admin@contoso.com"}, HTTP_HX_REQUEST="true")
    assert len(mailoutbox) == 1
    assert authorization.authorization_link in mailoutbox[0].body


def test_customer_step_shows_microsofts_address_suggestion_next_to_the_field(client, owner, product, sandbox):
    client.force_login(owner)
    client.post(reverse("checkout:cart_add", args=[product.pk]))
    data = {**NEW_CUSTOMER, "new-address_line1": "Microsoft Way"}
    response = client.post(reverse("checkout:customer"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Microsoft could not confirm this address. Did you mean:" in page
    assert 'value="Microsoft Way"' in page
    data["new-address_line1"] = "1 Microsoft Way"
    assert client.post(reverse("checkout:customer"), data)["Location"] == reverse("checkout:service_details")


def test_direct_customer_confirms_its_details_with_an_address(client, direct_user, product, sandbox):
    client.force_login(direct_user)
    client.post(reverse("checkout:cart_add", args=[product.pk]))
    organization = direct_user.organization
    data = {
        "company_name": organization.company_name,
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@woodgrove.example",
        "phone": "",
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "country": "",
    }
    response = client.post(reverse("checkout:customer"), data)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    data.update(address_line1="1 Main Street", city="Seattle", state="wa", postal_code="98101", country="US")
    assert client.post(reverse("checkout:customer"), data)["Location"] == reverse("checkout:service_details")
    organization.refresh_from_db()
    assert organization.state == "WA"


def test_orders_made_outside_the_checkout_show_their_customer(client, direct_user):
    from tests.factories import OrderFactory

    order = OrderFactory(organization=direct_user.organization, placed_by=direct_user, billing_profile={})
    client.force_login(direct_user)
    assert direct_user.organization.company_name in client.get(reverse("orders:list")).content.decode()
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert direct_user.organization.company_name in page


def test_ticking_the_box_for_a_prefix_no_tenant_uses_says_so(client, owner, owner_draft, sandbox):
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "nobodyhere42", "mpn_id": FABRIKAM_MPN, "existing_tenant": "on", "check": "box"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "No Microsoft tenant uses this domain yet: order it as a new tenant." in page
    assert not TenantAuthorization.objects.filter(domain_prefix="nobodyhere42").exists()
    assert 'id="checkout-button" class="primary" disabled' in page  # no authorization, no Checkout
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "contoso", "mpn_id": FABRIKAM_MPN, "existing_tenant": "on", "check": "box"},
        HTTP_HX_REQUEST="true",
    )
    assert "No Microsoft tenant uses this domain yet" not in response.content.decode()
