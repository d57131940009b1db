"""Shopping the imported catalog in a real browser: search, pick a term and billing plan, order it."""

import pytest
from playwright.sync_api import expect

from billing.models import Order
from storefront.catalog.pricelist import price_list_import
from tests.browser.test_checkout_journeys import checkout_button, place_order, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREMIUM = "CFQ7TTC0LCHC"


def test_reseller_searches_picks_a_term_and_billing_plan_and_orders_it(
    page, shot, live_storefront, reseller_login, sandbox
):
    price_list_import(market="US")  # the sandbox's price list, through the Partner Center client
    base = live_storefront.url
    sign_in(page, base, reseller_login.email)

    page.get_by_role("searchbox", name="Search").fill("business premium")
    page.get_by_label("Term", exact=True).select_option("P1Y")
    page.get_by_role("button", name="Search", exact=True).click()
    card = page.locator(f'article[data-product-id="{PREMIUM}"]')
    expect(card).to_have_count(1)
    expect(page.locator("article.product")).to_have_count(1)
    picker = card.get_by_label("Licence, term and billing plan")
    option = card.locator("option", has_text="For 1 year, billed annually").first
    picker.select_option(option.get_attribute("value"))
    card.get_by_label("Licences").fill("5")
    shot("c-catalog-search")
    card.get_by_role("button", name="Add to cart").click()

    expect(page.get_by_role("heading", name="Cart")).to_be_visible()
    expect(page.get_by_text("for 1 year, billed annually").first).to_be_visible()
    expect(page.get_by_text("Per-month equivalent")).to_be_visible()
    shot("c-cart-whole-term")
    page.get_by_role("button", name="Proceed to checkout").click()
    page.get_by_label("Contoso Ltd").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Domain prefix").fill("premiumbuyer")
    expect(page.locator("#domain-status")).to_contain_text("premiumbuyer.onmicrosoft.com is available.")
    page.get_by_label("MPN ID").focus()
    page.get_by_label("Domain prefix").focus()
    expect(checkout_button(page)).to_be_enabled()
    checkout_button(page).click()
    place_order(page, shot, "c")

    order = Order.objects.get()
    (line,) = order.lines.all()
    assert (line.term_duration, line.billing_cycle, line.quantity) == ("P1Y", "annual", 5)
    (cart,) = sandbox.state.carts.values()
    (sent,) = cart["lineItems"]
    assert sent["catalogItemId"] == line.catalog_item_id and sent["catalogItemId"].startswith(
        f"{PREMIUM}:0001:"
    )
    assert (sent["termDuration"], sent["billingCycle"], sent["quantity"]) == ("P1Y", "annual", 5)
