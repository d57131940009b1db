"""Browser journeys: Playwright for Python driving Debian's Chromium against live_server and the real sandbox."""

import os
import shutil
from pathlib import Path

import pytest

from storefront.celery import app as celery_app
from tests.factories import EndCustomerFactory, ProductFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-42"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's Chromium is missing at /usr/bin/chromium (apt-get install -y chromium)")
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def csp_violations(page) -> list[str]:
    """Collects what Chromium reports breaking the Content-Security-Policy (an inline script, style or handler)."""
    found: list[str] = []
    # The event says which directive, file and line (the console message alone does not).
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) { console.error("
        "'Content Security Policy violation event: ' + [e.violatedDirective, e.sourceFile, e.lineNumber, "
        "e.columnNumber, e.blockedURI, e.sample].join(' | ')); });"
    )
    page.on(
        "console",
        lambda m: found.append(f"{m.text} (at {page.url})") if "Content Security Policy" in m.text else None,
    )
    return found


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    violations = csp_violations(page)
    yield page
    context.close()
    # Every journey runs under the policy: anything it blocked is a page that does not work as written.
    assert not violations, violations


@pytest.fixture
def shot(page, tmp_path):
    """Screenshots of the key screens; `SAVE_SCREENSHOTS=1` refreshes the README's copies in docs/screenshots/."""
    folder = DOCS_SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path

    def save(name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert (folder / f"{name}.png").stat().st_size > 0

    return save


@pytest.fixture
def live_storefront(live_server, sandbox, settings, transactional_db):
    """The storefront on live_server with the worker's tasks run inline and demo-like data."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    ProductFactory(name="Microsoft 365 Business Basic", price="6.00")
    ProductFactory(name="Microsoft 365 Business Standard", price="12.50")
    yield live_server
    celery_app.conf.task_always_eager = False


@pytest.fixture
def reseller_login(live_storefront, reseller):
    user = UserFactory(email="reseller@fabrikam.example", organization=reseller, password=PASSWORD)
    EndCustomerFactory(reseller=reseller, company_name="Contoso Ltd", first_name="Jane", last_name="Doe")
    return user


@pytest.fixture
def direct_login(live_storefront, direct_user):
    direct_user.set_password(PASSWORD)
    direct_user.save()
    return direct_user
