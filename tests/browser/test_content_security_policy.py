"""Pages work in Chromium under the Content-Security-Policy (no 'unsafe-inline'), and a violation would be seen."""

import pytest
from playwright.sync_api import expect

from storefront.security import content_security_policy
from tests.browser.conftest import PASSWORD, csp_violations
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _header(response) -> str:
    return response.headers.get("content-security-policy", "")


def test_the_policy_forbids_inline_scripts_and_styles(settings):
    header = content_security_policy()
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert "script-src 'self'" in header and "style-src 'self'" in header
    assert "frame-ancestors 'none'" in header and "object-src 'none'" in header


def test_a_violation_would_be_caught(browser, live_storefront, settings):
    """The listener the journeys rely on does see an inline script and an inline style refused by the policy."""
    context = browser.new_context()
    page = context.new_page()
    found = csp_violations(page)
    probe = f"{live_storefront.url}/csp-probe/"
    page.route(
        probe,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": content_security_policy()},
            body='<p style="color:red">x</p><script>document.title = "ran"</script>',
        ),
    )
    page.goto(probe)
    page.wait_for_timeout(200)
    assert page.title() != "ran"
    assert any("script-src" in text for text in found) and any("style-src" in text for text in found)
    context.close()


def test_storefront_pages_send_the_policy_and_work_with_it(
    page, live_storefront, reseller_login, verified_contoso, settings
):
    violations = csp_violations(page)
    base = live_storefront.url
    response = page.goto(f"{base}/accounts/login/")
    assert _header(response) == content_security_policy()
    page.get_by_label("Email").fill(reseller_login.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Microsoft cloud services")).to_be_visible()
    for path, heading in [
        ("/accounts/", "Your account"),
        ("/accounts/tokens/", "API tokens"),
        ("/dashboard/", None),
        ("/gdap/", "Admin access to your customers' tenants"),
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200 and "script-src 'self'" in _header(response), path
        if heading:
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
    # Creating a token shows it once, and the copy button (storefront.js) answers.
    page.goto(f"{base}/accounts/tokens/")
    page.get_by_label("Name").fill("ERP sync")
    page.get_by_role("button", name="Create token").click()
    assert len(page.locator("#new-token-value").input_value()) == 64
    assert not violations, violations


def test_admin_and_api_docs_work_under_the_policy(page, live_storefront):
    violations = csp_violations(page)
    base = live_storefront.url
    UserFactory(email="admin@northwind.example", staff=True, password=PASSWORD)
    response = page.goto(f"{base}/admin/login/")
    assert "script-src 'self'" in _header(response)
    page.fill("#id_username", "admin@northwind.example")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/accounts/user/add/")
    expect(page.locator("#id_email")).to_be_visible()
    response = page.goto(f"{base}/api/docs/")
    assert "script-src 'self'" in _header(response)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CSP Storefront API", timeout=30000)
    assert not violations, violations
