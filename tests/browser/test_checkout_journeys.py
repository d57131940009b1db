"""The seed's flows end to end in a real browser, against live_server and the running sandbox."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from billing.models import Order
from storefront.catalog.models import Product
from storefront.checkout.models import CheckoutDraft
from tests.browser.conftest import PASSWORD
from tests.factories import ResellerMpnIdFactory
from tests.sandbox_ids import ADATUM_MPN, CONTOSO_TENANT, FABRIKAM_MPN, OUTSIDE_MPN, WOODGROVE_TENANT
from tests.shared import lookup_rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXACT_WARNING = (
    "There seems to be a problem with the Microsoft Partner Network ID (MPNID) you have provided. Please make sure "
    "that you have typed it correctly. If the problem insists, you have to authorize Northwind Distribution as your "
    "Microsoft Cloud Solution Provider (CSP) by accepting the Microsoft Partner Agreement on the Microsoft Partner "
    "Center."
)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Microsoft cloud services")).to_be_visible()


def add_to_cart_and_start(page) -> None:
    page.get_by_role("button", name="Add to cart").first.click()
    expect(page.get_by_role("heading", name="Cart")).to_be_visible()
    page.get_by_role("button", name="Proceed to checkout").click()
    expect(page.get_by_role("heading", name="Customer")).to_be_visible()


def choose_existing_customer(page, name: str) -> None:
    page.get_by_label(name).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Service Details")).to_be_visible()


def place_order(page, shot, name: str) -> None:
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_label("The customer has accepted the Microsoft Customer Agreement").check()
    shot(f"{name}-review")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "completed", timeout=20000)


def checkout_button(page):
    return page.get_by_role("button", name="Checkout", exact=True)


def test_reseller_new_tenant_with_required_billing_address(
    page, shot, live_storefront, reseller_login, storefront_config
):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    base = live_storefront.url
    sign_in(page, base, reseller_login.email)
    add_to_cart_and_start(page)
    page.get_by_label("A new customer").check()
    page.get_by_label("Company name").fill("Tailwind Traders")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Smith")
    page.get_by_label("Email").fill("sam@tailwind.example")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    expect(page.get_by_label("Company name")).to_have_value("Tailwind Traders")
    shot("a-customer-billing-address-required")
    page.get_by_label("Address line 1").fill("1 Microsoft Way")
    page.get_by_label("City").fill("Redmond")
    page.get_by_label("State or region").fill("WA")
    page.get_by_label("Postal code").fill("98052")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Service Details")).to_be_visible()
    page.get_by_label("Domain prefix").fill("tailwindtraders")
    expect(page.locator("#domain-status")).to_contain_text("tailwindtraders.onmicrosoft.com is available.")
    expect(page.get_by_label("MPN ID")).to_have_value(FABRIKAM_MPN)
    page.get_by_label("MPN ID").focus()
    page.get_by_label("Domain prefix").focus()
    expect(page.locator("#mpn-status")).to_contain_text("Fabrikam IT Services")
    expect(checkout_button(page)).to_be_enabled()
    shot("a-service-details-new-tenant")
    checkout_button(page).click()
    place_order(page, shot, "a")
    expect(page.locator("#admin-user-name")).to_have_text("admin@tailwindtraders.onmicrosoft.com")
    shot("a-order-completed")
    order = Order.objects.get()
    assert order.tenant == "new" and order.partner_mpn_id == FABRIKAM_MPN


def test_reseller_existing_tenant_with_custom_default_domain(
    page, shot, live_storefront, reseller_login, sandbox
):
    base = live_storefront.url
    sign_in(page, base, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    page.get_by_label("Domain prefix").fill("contoso")
    expect(page.locator("#domain-status")).to_contain_text(
        "already registered in Microsoft Portal by another tenant"
    )
    page.get_by_label("My customer is already using Office 365 service and he/she owns this domain").check()
    link = page.get_by_label("Authorization link")
    expect(link).to_have_value(re.compile(r"invType=IndirectResellerRelationship.*msppId=1234567"))
    expect(checkout_button(page)).to_be_disabled()
    shot("b-authorization-link")

    page.get_by_role("button", name="Verify Authorization").click()
    dialog = page.get_by_role("dialog", name="Verify Authorization")
    expect(dialog.get_by_label("Default domain")).to_have_value("contoso.onmicrosoft.com")
    expect(dialog.get_by_label("Default domain")).to_be_focused()
    dialog.get_by_label("Default domain").fill("contoso.com")
    dialog.get_by_role("button", name="Verify").click()
    expect(dialog.locator("#verify-result")).to_contain_text("The authorization has not been completed yet")
    shot("b-verify-not-yet")
    dialog.get_by_role("button", name="Cancel").click()
    expect(checkout_button(page)).to_be_disabled()

    portal = page.context.new_page()
    portal.goto(link.input_value())
    portal.get_by_label("Your organization's domain").fill("contoso.com")
    portal.get_by_role("button", name="Accept and authorize").click()
    expect(portal.get_by_text("is now authorized")).to_be_visible()
    portal.close()

    page.get_by_role("button", name="Verify Authorization").click()
    dialog.get_by_label("Default domain").fill("contoso.com")
    dialog.get_by_role("button", name="Verify").click()
    expect(page.locator("#authorization-status")).to_contain_text(
        "The authorization is verified for contoso.com"
    )
    expect(checkout_button(page)).to_be_enabled()
    shot("b-verified")
    checkout_button(page).click()
    place_order(page, shot, "b")
    order = Order.objects.get()
    assert order.tenant == "existing" and order.customer_tenant_id == CONTOSO_TENANT
    cart = next(iter(sandbox.state.carts.values()))
    assert cart["lineItems"][0]["participants"] == [{"key": "transaction_reseller", "value": FABRIKAM_MPN}]


def test_direct_customer_existing_tenant(page, shot, live_storefront, direct_login, sandbox):
    base = live_storefront.url
    sign_in(page, base, direct_login.email)
    add_to_cart_and_start(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Service Details")).to_be_visible()
    page.get_by_label("Domain prefix").fill("woodgrove")
    page.get_by_label("I am already using Office 365 service and I own this domain").check()
    link = page.get_by_label("Authorization link")
    expect(link).to_have_value(re.compile(r"invType=ResellerRelationship"))
    expect(checkout_button(page)).to_be_disabled()
    shot("c-direct-authorization-link")
    portal = page.context.new_page()
    portal.goto(link.input_value())
    portal.get_by_label("Your organization's domain").fill("woodgrovebank.com")
    portal.get_by_role("button", name="Accept and authorize").click()
    expect(portal.get_by_text("is now authorized")).to_be_visible()
    portal.close()
    page.get_by_role("button", name="Verify Authorization").click()
    dialog = page.get_by_role("dialog", name="Verify Authorization")
    dialog.get_by_label("Default domain").fill("woodgrovebank.com")
    dialog.get_by_role("button", name="Verify").click()
    expect(checkout_button(page)).to_be_enabled()
    checkout_button(page).click()
    place_order(page, shot, "c")
    order = Order.objects.get()
    assert order.customer_tenant_id == WOODGROVE_TENANT
    assert order.partner_mpn_id == ""


def test_a_check_answered_while_the_verify_dialog_is_open_leaves_it_open(
    page, live_storefront, reseller_login, sandbox
):
    """A debounced domain check (or the box) answering late must not close the dialog the buyer is typing in."""
    sign_in(page, live_storefront.url, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    page.get_by_label("Domain prefix").fill("contoso")
    expect(page.locator("#domain-status")).to_contain_text("already registered")
    page.get_by_label("My customer is already using Office 365 service and he/she owns this domain").check()
    expect(page.get_by_label("Authorization link")).to_have_value(re.compile(r"invType="))
    page.get_by_role("button", name="Verify Authorization").click()
    dialog = page.get_by_role("dialog", name="Verify Authorization")
    dialog.get_by_label("Default domain").fill("contoso.com")
    with page.expect_response(re.compile(r"/service-details/check/")):
        page.evaluate("htmx.trigger('#id_existing_tenant', 'change')")
    page.wait_for_timeout(200)  # let htmx settle the answer
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Default domain")).to_have_value("contoso.com")
    dialog.get_by_role("button", name="Verify").click()
    expect(dialog.locator("#verify-result")).to_contain_text("The authorization has not been completed yet")


def test_unticked_box_with_a_taken_prefix_blocks_checkout(page, shot, live_storefront, reseller_login):
    sign_in(page, live_storefront.url, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    page.get_by_label("Domain prefix").fill("wingtiptoys")
    status = page.locator("#domain-status")
    expect(status).to_contain_text("already registered in Microsoft Portal by another tenant")
    expect(status).to_contain_text(
        "follow the authorization process; otherwise choose another domain and retry"
    )
    expect(checkout_button(page)).to_be_disabled()
    shot("d-domain-taken")


def test_mpn_outside_the_network_shows_the_exact_yellow_warning(page, shot, live_storefront, reseller_login):
    ResellerMpnIdFactory(
        organization=reseller_login.organization, mpn_id=OUTSIDE_MPN
    )  # its own, outside the network
    sign_in(page, live_storefront.url, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    page.get_by_label("Domain prefix").fill("brandnewtenant42")
    expect(page.locator("#domain-status")).to_contain_text("is available")
    page.get_by_label("MPN ID").fill(OUTSIDE_MPN)
    page.get_by_label("Domain prefix").focus()
    warning = page.locator("#mpn-status .warning")
    expect(warning).to_have_text(EXACT_WARNING)
    assert warning.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 244, 194)"
    expect(checkout_button(page)).to_be_disabled()
    shot("e-mpn-outside-network")


def test_another_resellers_mpn_id_is_refused_at_the_field(page, shot, live_storefront, reseller_login):
    sign_in(page, live_storefront.url, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    page.get_by_label("Domain prefix").fill("alpineskihouse")
    page.get_by_label("MPN ID").fill(ADATUM_MPN)
    page.get_by_label("Domain prefix").focus()
    expect(page.locator("#mpn-status .error")).to_have_text(
        "This MPN ID is not one of your organisation's. Ask the distributor to add it."
    )
    page.get_by_label("My customer is already using Office 365 service and he/she owns this domain").check()
    expect(page.locator("#authorization-panel")).to_contain_text("Enter a valid MPN ID first")
    expect(page.get_by_label("Authorization link")).to_have_count(0)
    expect(checkout_button(page)).to_be_disabled()
    shot("f-mpn-not-yours")


def test_an_existing_tenant_needs_a_tenant_behind_the_prefix(page, shot, live_storefront, direct_login):
    sign_in(page, live_storefront.url, direct_login.email)
    add_to_cart_and_start(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Service Details")).to_be_visible()
    page.get_by_label("Domain prefix").fill("nobodyhere42")
    expect(page.locator("#domain-status")).to_contain_text("is available")
    page.get_by_label("I am already using Office 365 service and I own this domain").check()
    expect(page.locator("#authorization-panel")).to_contain_text(
        "No Microsoft tenant uses this domain yet: order it as a new tenant."
    )
    expect(checkout_button(page)).to_be_disabled()
    shot("g-no-tenant-behind-prefix")


def test_domain_checks_beyond_the_lookup_budget_wait_and_keep_what_was_typed(
    page, shot, live_storefront, reseller_login, settings
):
    lookup_rate(settings, "2/min")
    cache.clear()  # no lookups left counted by an earlier journey
    sign_in(page, live_storefront.url, reseller_login.email)
    add_to_cart_and_start(page)
    choose_existing_customer(page, "Contoso Ltd")
    prefix = page.get_by_label("Domain prefix")
    status = page.locator("#domain-status")
    for typed in ("freeone1", "freetwo2"):
        prefix.fill(typed)
        expect(status).to_contain_text(f"{typed}.onmicrosoft.com is available.")
    prefix.fill("freethree3")
    expect(status).to_contain_text("You have checked many domain prefixes and MPN IDs in a short time")
    expect(status).to_contain_text("What you typed is kept.")
    shot("h-lookup-budget-spent")
    expect(prefix).to_have_value("freethree3")
    expect(checkout_button(page)).to_be_disabled()
    # Going back to the prefix already checked asks nothing new: it is answered at once.
    prefix.fill("freetwo2")
    expect(status).to_contain_text("freetwo2.onmicrosoft.com is available.")


def test_a_product_withdrawn_from_the_cart_is_named_and_removed_by_the_buyer(
    page, shot, live_storefront, reseller_login
):
    sign_in(page, live_storefront.url, reseller_login.email)
    page.get_by_role("button", name="Add to cart").nth(0).click()
    expect(page.get_by_role("heading", name="Cart")).to_be_visible()
    page.goto(f"{live_storefront.url}/")
    page.get_by_role("button", name="Add to cart").nth(1).click()
    expect(page.locator("table.lines tbody tr")).to_have_count(2)
    withdrawn = Product.objects.get(
        pk=min(int(pk) for pk in CheckoutDraft.objects.get(user=reseller_login).lines)
    )
    withdrawn.is_active = False
    withdrawn.save()  # as a distributor admin does in admin

    page.reload()

    gone = page.get_by_role("region", name="No longer sold")
    expect(gone).to_contain_text(f"{withdrawn.name} (product {withdrawn.pk}) is no longer sold")
    expect(page.locator("table.lines tbody tr")).to_have_count(1)
    shot("c-cart-withdrawn-product")
    gone.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.get_by_role("region", name="No longer sold")).to_have_count(0)
    expect(page.locator("table.lines tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Proceed to checkout").click()
    expect(page.get_by_role("heading", name="Customer")).to_be_visible()
